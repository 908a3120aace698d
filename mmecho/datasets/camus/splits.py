# Copyright (c) mmecho contributors. All rights reserved.
"""The thesis split of CAMUS: the patients shuffled and cut 80/10/10 (400 /
50 / 50 of the 500), written beside the official split files."""
import os.path as osp
import random
from typing import Dict, List, Sequence

from mmecho.utils import atomic_write_text
from .files import resolve_patients

SUBSETS = ('training', 'validation', 'testing')


def thesis_split_files(prefix: str = 'thesis') -> Dict[str, str]:
    """subset -> split file relative to the CAMUS root."""
    return {s: f'database_split/{prefix}_{s}.txt' for s in SUBSETS}


def write_thesis_split(data_root: str,
                       patients_dir: str = 'database_nifti',
                       ratios: Sequence[float] = (0.8, 0.1, 0.1),
                       seed: int = 0,
                       prefix: str = 'thesis') -> Dict[str, List[str]]:
    """Shuffle every patient folder with ``seed`` and cut 80/10/10.

    As the thesis's appendix: the sorted list is shuffled with Python's
    ``random.shuffle`` (here ``random.Random(seed)``; the thesis did not
    seed it, so its patients cannot be recovered) and cut in order: the
    first 80 % train, the next 10 % validate, the rest test (400 / 50 / 50
    of CAMUS's 500).

    Writes ``database_split/{prefix}_{training,validation,testing}.txt``
    (atomically) and returns subset -> sorted patient ids. Validation and
    test get at least one patient each when there are three or more.
    """
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f'ratios must be 3 non-negative numbers, got '
                         f'{ratios}')
    patients = resolve_patients(data_root, patients_dir, None)
    n = len(patients)
    order = sorted(patients)
    random.Random(seed).shuffle(order)
    total = float(sum(ratios))
    n_train = int(round(ratios[0] / total * n))
    n_val = int(round(ratios[1] / total * n))
    if n >= 3:  # at least one patient to validate and one to test
        n_train = min(n_train, n - 2)
        n_val = min(max(n_val, 1), n - n_train - 1)
    split = {
        'training': sorted(order[:n_train]),
        'validation': sorted(order[n_train:n_train + n_val]),
        'testing': sorted(order[n_train + n_val:])
    }
    for subset, rel in thesis_split_files(prefix).items():
        atomic_write_text(
            osp.join(data_root, rel), ''.join(p + '\n' for p in split[subset]))
    return split
