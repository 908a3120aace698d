# Copyright (c) mmecho contributors. All rights reserved.
"""The thesis split of CAMUS: a seeded random 80/10/10 split over patients,
written beside the official split files."""
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from mmecho.utils import atomic_write_text
from .camus import resolve_patients

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

    Writes ``database_split/{prefix}_{training,validation,testing}.txt``
    (atomically) and returns subset -> sorted patient ids. Validation and
    test get at least one patient each when there are three or more.
    """
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f'ratios must be 3 non-negative numbers, got '
                         f'{ratios}')
    patients = resolve_patients(data_root, patients_dir, None)
    n = len(patients)
    order = [patients[i] for i in np.random.default_rng(seed).permutation(n)]
    r = np.asarray(ratios, float) / float(sum(ratios))
    n_val = int(round(r[1] * n))
    n_test = int(round(r[2] * n))
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    split = {
        'testing': sorted(order[:n_test]),
        'validation': sorted(order[n_test:n_test + n_val]),
        'training': sorted(order[n_test + n_val:])
    }
    for subset, rel in thesis_split_files(prefix).items():
        atomic_write_text(
            osp.join(data_root, rel), ''.join(p + '\n' for p in split[subset]))
    return split
