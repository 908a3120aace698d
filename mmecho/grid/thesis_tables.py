# Copyright (c) mmecho contributors. All rights reserved.
"""The thesis's published values of every grid cell (paper 002, Tables
1-9), kept in ``thesis_tables_002.json`` beside this file."""
import json
import os.path as osp
from functools import lru_cache
from typing import Dict

from .cells import check_cell

#: the thesis's Tables 1-9 (paper 002), as printed: arch -> encoder ->
#: 'initial' | 'augmented' -> accuracy (its soft Dice), miou, recall
THESIS_TABLES_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'thesis_tables_002.json')


@lru_cache(maxsize=1)
def _thesis_tables() -> dict:
    with open(THESIS_TABLES_FILE) as f:
        return json.load(f)['tables']


def thesis_values(arch: str, encoder: str, arm: str) -> Dict[str, float]:
    """The thesis's Accuracy, mIoU and Recall of one cell and arm
    (``'initial'`` or ``'augmented'``): ``{'accuracy': ..., 'miou': ...,
    'recall': ...}``; ``{}`` where the thesis has no value."""
    check_cell(arch, encoder)
    if arm not in ('initial', 'augmented'):
        raise ValueError(f"arm must be 'initial' or 'augmented', got {arm!r}")
    return dict(_thesis_tables().get(arch, {}).get(encoder, {}).get(arm, {}))
