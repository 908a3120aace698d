# Copyright (c) mmecho contributors. All rights reserved.
"""Export CAMUS (+ pseudo-labels) to nnU-Net v2's raw dataset format.

::

    OUT/Dataset{ID:03d}_{NAME}/
        dataset.json
        imagesTr/{case}_0000.nii.gz   labelsTr/{case}.nii.gz
        imagesTs/{case}_0000.nii.gz   (with test patients)

``dim='2d'``: one case per frame, ``{patient}_{view}_{tNN}``, stored as a
one-slice volume (nnU-Net's 2D configuration reads those). ``dim='3d'``:
one case per ED -> ES sequence, ``{patient}_{view}``, a ``(T, H, W)`` volume
with ``time_spacing`` as its first spacing (nnU-Net treats time as the third
spatial axis, as paper 001's "3D dense" nnU-Net did).

Labels: ``'sparse'`` (ED and ES only: 2D exports only those frames, 3D marks
the other frames with nnU-Net's ``ignore`` label, the highest value),
``'pseudo'`` (``half_sequence_pseudo`` with the manual ED / ES maps put
back at ED and ES) or ``'gt'`` (``half_sequence_gt``). Files are written
atomically and existing ones skipped, so an interrupted export resumes;
``dataset.json`` is written last.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from mmecho.utils import atomic_write_text
from ..io import save_medical_image
from .files import CAMUS_CLASSES, CAMUS_VIEWS, CAMUSFiles, resolve_patients

LABEL_SOURCES = ('sparse', 'pseudo', 'gt')
NNUNET_LABELS = dict(background=0, LV=1, MYO=2, LA=3)


def _sequence(files: CAMUSFiles, source: str, label_root: Optional[str]):
    seq = files.ed_to_es()
    frames = seq['frames']
    labelled = np.zeros(len(frames), bool)
    labels = np.zeros(frames.shape, np.uint8)
    if source in ('pseudo', 'gt'):
        name = 'half_sequence_pseudo' if source == 'pseudo' else \
            'half_sequence_gt'
        labels[:] = files.sequence_label_array(
            seq['shape'], name, label_root)[seq['ed']:seq['es'] + 1]
        labelled[:] = True
        unl = (labels == 255).all(axis=(1, 2))
        labelled[unl] = False
    if source in ('sparse', 'pseudo'):
        labels[0], labels[-1] = files.instant_labels(frames.shape[1:])
        labelled[0] = labelled[-1] = True
    return frames, labels, labelled, seq['spacing']


def export_camus_to_nnunet(data_root: str,
                           out_root: str,
                           dataset_id: int = 501,
                           name: str = 'CAMUS',
                           dim: str = '2d',
                           labels: str = 'pseudo',
                           label_root: Optional[str] = None,
                           patients_dir: str = 'database_nifti',
                           split=None,
                           test_split=None,
                           views: Sequence[str] = CAMUS_VIEWS,
                           time_spacing: float = 1.0) -> Dict:
    """Write the dataset; returns ``dict(folder, num_training, num_test)``."""
    if dim not in ('2d', '3d'):
        raise ValueError(f"dim must be '2d' or '3d', got {dim!r}")
    if labels not in LABEL_SOURCES:
        raise ValueError(f'labels must be one of {LABEL_SOURCES}, got '
                         f'{labels!r}')
    folder = osp.join(out_root, f'Dataset{int(dataset_id):03d}_{name}')
    for sub in ('imagesTr', 'labelsTr'):
        os.makedirs(osp.join(folder, sub), exist_ok=True)
    ignore = len(NNUNET_LABELS)
    n_train = 0
    for pid in resolve_patients(data_root, patients_dir, split):
        for view in views:
            files = CAMUSFiles(data_root, patients_dir, pid, view)
            frames, labs, labelled, sp = _sequence(files, labels, label_root)
            if dim == '3d':
                case = f'{pid}_{view}'
                lab = labs.copy()
                lab[~labelled] = ignore
                n_train += _write_case(folder, 'Tr', case, frames, lab,
                                       (time_spacing, ) + sp)
                continue
            for t in np.flatnonzero(labelled):
                case = f'{pid}_{view}_t{t:02d}'
                n_train += _write_case(folder, 'Tr', case, frames[t:t + 1],
                                       labs[t:t + 1], (1.0, ) + sp)
    n_test = 0
    if test_split is not None:
        os.makedirs(osp.join(folder, 'imagesTs'), exist_ok=True)
        for pid in resolve_patients(data_root, patients_dir, test_split):
            for view in views:
                ed_es = CAMUSFiles(data_root, patients_dir, pid,
                                   view).ed_to_es()
                seq, sp = ed_es['frames'], ed_es['spacing']
                if dim == '3d':
                    n_test += _write_case(folder, 'Ts', f'{pid}_{view}', seq,
                                          None, (time_spacing, ) + sp)
                else:
                    for t in range(len(seq)):
                        n_test += _write_case(folder, 'Ts',
                                              f'{pid}_{view}_t{t:02d}',
                                              seq[t:t + 1], None, (1.0, ) + sp)
    lab_names = dict(NNUNET_LABELS)
    if dim == '3d' and labels == 'sparse':
        lab_names['ignore'] = ignore
    meta = dict(
        channel_names={'0': 'US'},
        labels=lab_names,
        numTraining=n_train,
        file_ending='.nii.gz',
        name=name,
        description=f'CAMUS {dim} export by mmecho, labels={labels} '
        f'(classes {", ".join(CAMUS_CLASSES)})')
    atomic_write_text(
        osp.join(folder, 'dataset.json'), json.dumps(meta, indent=1))
    return dict(folder=folder, num_training=n_train, num_test=n_test)


def _write_case(folder, part, case, image, label, spacing) -> int:
    img_path = osp.join(folder, f'images{part}', f'{case}_0000.nii.gz')
    if not osp.isfile(img_path):
        save_medical_image(img_path, image, spacing)
    if label is not None:
        lab_path = osp.join(folder, f'labels{part}', f'{case}.nii.gz')
        if not osp.isfile(lab_path):
            save_medical_image(lab_path, label.astype(np.uint8), spacing)
    return 1
