# Copyright (c) mmecho contributors. All rights reserved.
"""Intra-sequence frame pairs for unsupervised registration.

Paper 001 trains its registration network on "every possible intrapatient
combination of two frames"; :class:`FramePairDataset` enumerates those
pairs over the sequences a subclass lists
(:class:`~mmecho.datasets.camus.CAMUSFramePairDataset`: CAMUS half
sequences; :class:`~mmecho.datasets.mnms.MnMsFramePairDataset`: M&Ms
slices from ED to ES): every pair (``pairs='all'``), only consecutive
frames (``'consecutive'``) or only the ED <-> ES pair (``'ed_es'``, for
validation). Frames are resized to ``size`` (paper: 512 x 512, spacing
rescaled; the aspect ratio is not kept) and scaled to [0, 1].

An item is ``dict(inputs=(2, H, W) float tensor [fixed, moving],
data_samples=dict(...))`` whose ``data_samples`` also carries ``labels``
``(2, H, W)`` (nearest-resized, zeros where unknown) and ``has_labels``
when both frames are labelled, so mmengine's ``default_collate`` stacks a
batch. Decoded, resized sequences are cached per worker (``cache_size``).
"""
import itertools
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.dataset import BaseDataset

from .drop_report import check_not_empty

PAIRINGS = ('all', 'consecutive', 'ed_es')


def frame_pairs(num_frames: int,
                pairs: str,
                ed: int = 0,
                es: Optional[int] = None) -> List[Tuple[int, int]]:
    """``(fixed, moving)`` frame index pairs of one sequence."""
    if pairs == 'all':
        return [(i, j)
                for i, j in itertools.permutations(range(num_frames), 2)]
    if pairs == 'consecutive':
        return [(i + 1, i) for i in range(num_frames - 1)] + \
               [(i, i + 1) for i in range(num_frames - 1)]
    if pairs == 'ed_es':
        es = num_frames - 1 if es is None else es
        return [(es, ed), (ed, es)]
    raise ValueError(f'pairs must be one of {PAIRINGS}, got {pairs!r}')


class FramePairDataset(BaseDataset):
    """Base class: subclasses list their sequences and load one.

    ``sequence_list()`` returns dicts with at least ``key`` (unique),
    ``num_frames``, ``ed_index``, ``es_index``; ``load_sequence(info)``
    returns ``(frames (T, H, W) uint8, labels (T, H, W) or None,
    labelled (T,) bool)``.

    Args:
        size (tuple): ``(H, W)`` the frames are resized to.
        pairs (str): One of ``'all'``, ``'consecutive'``, ``'ed_es'``.
        cache_size (int): Resized sequences kept in memory per worker.
    """

    def __init__(self,
                 size: Sequence[int] = (512, 512),
                 pairs: str = 'all',
                 cache_size: int = 128,
                 **kwargs) -> None:
        if pairs not in PAIRINGS:
            raise ValueError(f'pairs must be one of {PAIRINGS}, got {pairs!r}')
        self.size = (int(size[0]), int(size[1]))
        self.pairs = pairs
        self.cache_size = int(cache_size)
        self._cache: 'OrderedDict[str, tuple]' = OrderedDict()
        kwargs.setdefault('pipeline', [])
        super().__init__(**kwargs)

    # -- to implement ------------------------------------------------------
    def sequence_list(self) -> List[Dict]:
        raise NotImplementedError

    def load_sequence(self, info: Dict) -> Tuple:
        raise NotImplementedError

    # ----------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        data_list = []
        for seq in self.sequence_list():
            for fixed, moving in frame_pairs(seq['num_frames'], self.pairs,
                                             seq['ed_index'], seq['es_index']):
                data_list.append(dict(seq, fixed=fixed, moving=moving))
        check_not_empty(
            data_list,
            type(self).__name__,
            self.data_root,
            pairs=self.pairs,
            **self.selection())
        return data_list

    def selection(self) -> Dict:
        """The split and filters of this dataset, named in the error of an
        empty build (subclasses add theirs)."""
        return {}

    def _resized(self, info: Dict) -> Tuple:
        key = info['key']
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        frames, labels, labelled = self.load_sequence(info)
        H, W = self.size
        frames = np.stack([
            cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA) for f in frames
        ])
        if labels is not None:
            labels = np.stack([
                cv2.resize(lab, (W, H), interpolation=cv2.INTER_NEAREST)
                for lab in labels
            ])
        item = (frames, labels, np.asarray(labelled, bool))
        self._cache[key] = item
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return item

    def prepare_data(self, idx) -> dict:
        info = self.get_data_info(idx)
        frames, labels, labelled = self._resized(info)
        i, j = info['fixed'], info['moving']
        inputs = torch.from_numpy(
            np.stack([frames[i], frames[j]]).astype(np.float32) / 255.0)
        has = labels is not None and bool(labelled[i] and labelled[j])
        lab = (
            np.stack([labels[i], labels[j]]) if has else np.zeros(
                (2, ) + self.size, np.uint8))
        return dict(
            inputs=inputs,
            data_samples=dict(
                key=info['key'],
                fixed_index=i,
                moving_index=j,
                labels=torch.from_numpy(lab.astype(np.int64)),
                has_labels=has))
