# Copyright (c) mmecho contributors. All rights reserved.
"""Whole CAMUS ED -> ES sequences for 2D+time segmentation models."""
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.structures import BaseDataElement

from mmecho.registry import DATASETS
from ..drop_report import check_not_empty
from .files import (CAMUS_CLASSES, CAMUS_PALETTE, CAMUS_VIEWS, CAMUSFiles,
                    resolve_patients)

SPARSE = 'sparse'


def resample_sequence(frames: np.ndarray, size: Sequence[int], num_frames: int,
                      labels: bool) -> np.ndarray:
    """``(T, H, W)`` -> ``(num_frames, h, w)``: area / linear resampling for
    images, nearest in space and time for labels (frame 0 and T-1 map to
    0 and num_frames-1 exactly)."""
    T = frames.shape[0]
    h, w = int(size[0]), int(size[1])
    interp = cv2.INTER_NEAREST if labels else cv2.INTER_AREA
    spatial = np.stack(
        [cv2.resize(f, (w, h), interpolation=interp) for f in frames])
    pos = np.linspace(0, T - 1, num_frames)
    if labels:
        return spatial[np.round(pos).astype(int)]
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, T - 1)
    a = (pos - lo)[:, None, None]
    return ((1 - a) * spatial[lo] + a * spatial[hi]).astype(np.float32)


@DATASETS.register_module()
class CAMUSSequenceDataset(BaseDataset):
    """One item per patient and view: the frames from ED to ES.

    Args:
        data_root (str): CAMUS root.
        patients_dir (str): ``'database_nifti'`` or ``'training'``.
        split: ``None``, a split file (relative to ``data_root``) or ids.
        views (tuple): Subset of ``('2CH', '4CH')``.
        labels (str): ``'half_sequence_gt'`` (dense references),
            ``'half_sequence_pseudo'`` (registration pseudo-labels) or
            ``'sparse'`` (the ED and ES label maps only; other frames are
            ``ignore_index``).
        label_root (str, optional): Where the sequence label files live,
            same layout (default: beside the images).
        size (tuple): ``(h, w)`` the network sees.
        num_frames (int): Frames the network sees (the sequence is
            resampled in time; predictions go back to the original frames).
        ignore_index (int): Label of unlabelled pixels / frames.
        strict (bool): Accepted for the same interface as the other
            datasets; nothing is dropped: a missing file, an Info file
            inconsistent with its sequence or an empty selection raises
            :class:`DatasetFormatError`.

    Items: ``inputs`` ``(1, num_frames, h, w)`` float in [0, 1];
    ``data_samples`` a :class:`BaseDataElement` with ``labels``
    ``(num_frames, h, w)`` long, ``gt`` ``(T, H, W)`` uint8 at the original
    resolution and the metainfo ``patient``, ``view``, ``num_frames`` (T),
    ``spacing`` (mm), ``ori_shape``, ``img_path``.
    """

    METAINFO = dict(classes=CAMUS_CLASSES, palette=CAMUS_PALETTE)

    def __init__(self,
                 data_root: str,
                 patients_dir: str = 'database_nifti',
                 split: Union[None, str, Sequence[str]] = None,
                 views: Sequence[str] = CAMUS_VIEWS,
                 labels: str = 'half_sequence_gt',
                 label_root: Optional[str] = None,
                 size: Sequence[int] = (256, 256),
                 num_frames: int = 16,
                 ignore_index: int = 255,
                 strict: bool = False,
                 **kwargs) -> None:
        self.strict = strict
        self.patients_dir = patients_dir
        self.split = split
        self.views = tuple(views)
        self.labels = labels
        self.label_root = label_root
        self.size = tuple(int(s) for s in size)
        self.num_frames = int(num_frames)
        self.ignore_index = ignore_index
        kwargs.setdefault('pipeline', [])
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        out = []
        for pid in resolve_patients(self.data_root, self.patients_dir,
                                    self.split):
            for view in self.views:
                files = self._files(pid, view)
                # fail early on a missing or bad Info file, or one whose
                # ED/ES/NbFrame disagree with the sequence
                files.checked_info()
                files.sequence(gt=False)
                if self.labels == SPARSE:
                    files.instant('ED', gt=True)
                    files.instant('ES', gt=True)
                else:
                    files.sequence(
                        gt=True,
                        label_name=self.labels,
                        label_root=self.label_root)
                out.append(dict(patient=pid, view=view))
        check_not_empty(
            out,
            type(self).__name__,
            self.data_root,
            patients_dir=self.patients_dir,
            split=self.split,
            views=self.views)
        return out

    def _files(self, patient: str, view: str) -> CAMUSFiles:
        return CAMUSFiles(self.data_root, self.patients_dir, patient, view)

    def load_sequence(self, info: Dict):
        """``(frames, labels, spacing, img_path)`` from ED to ES at the
        original resolution; labels ``(T, H, W)`` uint8 (ignore where
        unknown)."""
        files = self._files(info['patient'], info['view'])
        seq = files.ed_to_es()
        frames = seq['frames']
        if self.labels == SPARSE:
            lab = np.full(frames.shape, self.ignore_index, np.uint8)
            lab[0], lab[-1] = files.instant_labels(frames.shape[1:])
        else:
            lab = files.sequence_label_array(
                seq['shape'], self.labels,
                self.label_root)[seq['ed']:seq['es'] + 1]
        return frames, lab, seq['spacing'], seq['img_path']

    def prepare_data(self, idx) -> dict:
        info = self.get_data_info(idx)
        frames, lab, spacing, img_path = self.load_sequence(info)
        x = resample_sequence(frames, self.size, self.num_frames, False)
        y = resample_sequence(lab, self.size, self.num_frames, True)
        sample = BaseDataElement(
            metainfo=dict(
                patient=info['patient'],
                view=info['view'],
                num_frames=int(frames.shape[0]),
                spacing=spacing,
                ori_shape=tuple(frames.shape[1:]),
                img_path=img_path))
        sample.labels = torch.from_numpy(y.astype(np.int64))
        sample.gt = lab
        return dict(
            inputs=torch.from_numpy(x / 255.0).float()[None],
            data_samples=sample)
