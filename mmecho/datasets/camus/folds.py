# Copyright (c) mmecho contributors. All rights reserved.
"""K-fold cross-validation folds of CAMUS.

The CAMUS paper's 10 folds of 50 patients are stratified on image quality
and ejection fraction. When the release's own subgroup lists are present
(``listSubGroups/subGroup{k}_{training,validation,testing}.txt``, the layout
vital reads) they are used as they are; otherwise :func:`stratified_folds`
builds folds the same way from ``Info_2CH.cfg`` (ImageQuality, EF) and the
caller writes them down.
"""
import os.path as osp
from typing import Dict, List

import numpy as np

from .files import CAMUSFiles, resolve_patients

SUBSETS = ('training', 'validation', 'testing')


def official_subgroups(data_root: str, folds: int) -> List[Dict[str, str]]:
    """Absolute paths of the release's subgroup lists, one dict per fold, or
    an empty list when they are not all present."""
    out = []
    for k in range(1, folds + 1):
        files = {
            s: osp.join(data_root, 'listSubGroups', f'subGroup{k}_{s}.txt')
            for s in SUBSETS
        }
        if not all(osp.isfile(f) for f in files.values()):
            return []
        out.append(files)
    return out


def _ef_band(ef) -> int:
    if ef is None:
        return 1
    return 0 if ef <= 45 else (2 if ef >= 55 else 1)


def stratified_folds(data_root: str,
                     folds: int,
                     patients_dir: str = 'database_nifti',
                     seed: int = 0) -> List[List[str]]:
    """Split every patient into ``folds`` groups of (nearly) equal size,
    stratified on (ImageQuality, EF <= 45 / 45-55 / >= 55 %) from
    ``Info_2CH.cfg``: patients are shuffled with ``seed``, sorted by stratum
    and dealt round-robin."""
    patients = resolve_patients(data_root, patients_dir, None)
    if len(patients) < folds:
        raise ValueError(f'{len(patients)} patients in {data_root} cannot '
                         f'make {folds} folds')
    rng = np.random.default_rng(seed)
    order = [patients[i] for i in rng.permutation(len(patients))]
    quality_rank = {'Good': 0, 'Medium': 1, 'Poor': 2}

    def stratum(pid):
        info = CAMUSFiles(data_root, patients_dir, pid, '2CH').info()
        q = quality_rank.get(str(info.get('ImageQuality')), 3)
        return (q, _ef_band(info.get('EF')))

    order.sort(key=stratum)  # stable: shuffled within a stratum
    groups = [[] for _ in range(folds)]
    for i, pid in enumerate(order):
        groups[i % folds].append(pid)
    return [sorted(g) for g in groups]


def fold_subsets(groups: List[List[str]], k: int) -> Dict[str, List[str]]:
    """Fold ``k`` (0-based): group k tests, group k+1 validates, the rest
    trains. With only two groups the test group also validates (otherwise
    nothing would be left to train on)."""
    n = len(groups)
    val = (k + 1) % n if n >= 3 else k
    train = [p for i, g in enumerate(groups) if i not in (k, val) for p in g]
    return dict(
        training=sorted(train), validation=groups[val], testing=groups[k])
