# Copyright (c) mmecho contributors. All rights reserved.
"""Intra-sequence frame pairs of CAMUS half sequences, for registration
(paper 001); the pairing, resizing and caching are
:class:`~mmecho.datasets.frame_pair_dataset.FramePairDataset`'s."""
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from mmecho.registry import DATASETS
from ..frame_pair_dataset import FramePairDataset
from ..io import load_medical_image, read_image_shape
from .files import CAMUS_VIEWS, CAMUSFiles, resolve_patients


@DATASETS.register_module()
class CAMUSFramePairDataset(FramePairDataset):
    """Frame pairs of CAMUS half sequences (either release).

    Labels for the optional label-based metrics come from the
    ``half_sequence_gt`` files when present (every frame), else from the
    ``ED_gt`` / ``ES_gt`` files at the ED and ES frames.

    Args:
        data_root (str): CAMUS root (``database_nifti/`` or ``training/``).
        patients_dir (str): ``'database_nifti'`` (2023) or ``'training'``.
        split: ``None`` (all), a split file or a list of patient ids.
        views (tuple): Subset of ``('2CH', '4CH')``.
        exclude (str | list, optional): Patients to leave out (a split file
            or ids), e.g. the 94 TED patients as paper 001 did.
        **kwargs: See :class:`FramePairDataset`.
    """

    def __init__(self,
                 data_root: str,
                 patients_dir: str = 'database_nifti',
                 split: Union[None, str, Sequence[str]] = None,
                 views: Sequence[str] = CAMUS_VIEWS,
                 exclude: Union[None, str, Sequence[str]] = None,
                 **kwargs) -> None:
        self.patients_dir = patients_dir
        self.split = split
        self.views = tuple(views)
        self.exclude = exclude
        super().__init__(data_root=data_root, **kwargs)

    def selection(self) -> Dict:
        return dict(
            split=self.split,
            views=self.views,
            exclude=self.exclude,
            patients_dir=self.patients_dir)

    def sequence_list(self) -> List[Dict]:
        patients = resolve_patients(self.data_root, self.patients_dir,
                                    self.split)
        if self.exclude is not None:
            drop = set(
                resolve_patients(self.data_root, self.patients_dir,
                                 self.exclude))
            patients = [p for p in patients if p not in drop]
        out = []
        for pid in patients:
            for view in self.views:
                files = CAMUSFiles(self.data_root, self.patients_dir, pid,
                                   view)
                info = files.info()
                img = files.sequence(gt=False)
                n = read_image_shape(img)[0]
                out.append(
                    dict(
                        key=f'{pid}_{view}',
                        patient=pid,
                        view=view,
                        img_path=img,
                        num_frames=n,
                        ed_index=info['ed_index'],
                        es_index=info['es_index']))
        return out

    def load_sequence(self, info: Dict) -> Tuple:
        frames, _ = load_medical_image(info['img_path'])
        files = CAMUSFiles(self.data_root, self.patients_dir, info['patient'],
                           info['view'])
        T = frames.shape[0]
        gt = files.sequence(gt=True, required=False)
        if gt is not None:
            labels, _ = load_medical_image(gt)
            return frames.astype(np.uint8), labels.astype(np.uint8), \
                np.ones(T, bool)
        labels = np.zeros(frames.shape, np.uint8)
        labelled = np.zeros(T, bool)
        for inst, idx in (('ED', info['ed_index']), ('ES', info['es_index'])):
            lab, _ = load_medical_image(files.instant(inst, gt=True))
            labels[idx] = lab
            labelled[idx] = True
        return frames.astype(np.uint8), labels, labelled
