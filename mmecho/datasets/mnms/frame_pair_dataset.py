# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms short-axis frame pairs for registration (paper 003).

One "sequence" per subject and slice: the frames from ED to ES (cyclically
when ES < ED), with labels at ED and ES. Pairs are taken inside a sequence
(intra-subject, same slice). MRI intensities are mapped to uint8 per
subject by its 1st-99th percentiles before the frames are resized.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmecho.registry import DATASETS
from ..frame_pair_dataset import FramePairDataset
from ..io import load_medical_image
from .reader import MnMsReader, frames_ed_to_es, to_uint8


@DATASETS.register_module()
class MnMsFramePairDataset(FramePairDataset):
    """Frame pairs of M&Ms cine slices between ED and ES.

    Args:
        data_root (str): The M&Ms root.
        info_file (str): Information CSV relative to ``data_root``.
        splits (tuple, optional): Split folders, e.g.
            ``('Training/Labeled',)``.
        vendors (tuple, optional): e.g. ``('A', 'B')``.
        skip_empty_slices (bool): Leave out slices without labels at ED.
        **kwargs: See :class:`FramePairDataset` (``size``, ``pairs``).
    """

    def __init__(self,
                 data_root: str,
                 info_file: str,
                 splits: Optional[Sequence[str]] = None,
                 vendors: Optional[Sequence[str]] = None,
                 skip_empty_slices: bool = True,
                 **kwargs) -> None:
        self.info_file = info_file
        self.splits = splits
        self.vendors = vendors
        self.skip_empty_slices = skip_empty_slices
        self._volumes: 'OrderedDict[str, tuple]' = OrderedDict()
        self._reader: Optional[MnMsReader] = None
        super().__init__(data_root=data_root, **kwargs)

    def selection(self) -> Dict:
        return dict(
            info_file=self.info_file,
            splits=self.splits,
            vendors=self.vendors,
            skip_empty_slices=self.skip_empty_slices)

    @property
    def reader(self) -> MnMsReader:
        """One reader (info CSV and subject folders read once)."""
        if self._reader is None:
            self._reader = MnMsReader(self.data_root, self.info_file)
        return self._reader

    def _subject(self, code: str):
        if code not in self._volumes:
            d = self.reader.load(code)
            self._volumes[code] = (to_uint8(d['image']), d['label'])
            while len(self._volumes) > 2:
                self._volumes.popitem(last=False)
        return self._volumes[code]

    def sequence_list(self) -> List[Dict]:
        reader = self.reader
        out = []
        for code in reader.subjects(self.splits, self.vendors):
            idx = reader.frame_indices(code)
            frames = frames_ed_to_es(idx['ED'], idx['ES'], idx['frames'])
            label = None
            if self.skip_empty_slices:
                label = load_medical_image(reader._gt_path(code))[0]
            for z in range(idx['slices']):
                if label is not None and not label[idx['ED'], z].any():
                    continue
                out.append(
                    dict(
                        key=f'{code}_z{z:02d}',
                        code=code,
                        slice=z,
                        frames=frames,
                        num_frames=len(frames),
                        ed_index=0,
                        es_index=len(frames) - 1))
        return out

    def load_sequence(self, info: Dict) -> Tuple:
        image, label = self._subject(info['code'])
        t = info['frames']
        frames = image[t, info['slice']]
        labelled = np.zeros(len(t), bool)
        labelled[[0, -1]] = True
        labels = None
        if label is not None:
            labels = label[t, info['slice']].astype(np.uint8)
        return frames, labels, labelled
