# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms 2D short-axis slices at ED and ES (and, optionally, the frames
between them labelled by registration pseudo-labels) as an mmseg dataset;
the layout is described in :mod:`.reader`."""
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseSegDataset

from mmecho.registry import DATASETS
from ..drop_report import DropReport, check_not_empty
from ..io import DatasetFormatError, load_medical_image, read_image_shape
from .reader import MnMsReader, frames_ed_to_es, pseudo_label_path

MNMS_CLASSES = ('background', 'LV', 'MYO', 'RV')
MNMS_PALETTE = [[0, 0, 0], [230, 60, 60], [60, 200, 90], [70, 110, 240]]


@DATASETS.register_module()
class MnMsDataset(BaseSegDataset):
    """2D short-axis slices of M&Ms at ED and ES, as an mmseg dataset.

    Args:
        data_root (str): The M&Ms root.
        info_file (str): Information CSV relative to ``data_root``.
        splits (Sequence[str], optional): Split folders, e.g.
            ``('Training/Labeled',)``; None = all.
        vendors (Sequence[str], optional): e.g. ``('A', 'B')``.
        instants (Sequence[str]): Subset of ``('ED', 'ES')``.
        skip_empty_slices (bool): Drop slices without any label (above the
            base / below the apex). Defaults to False.
        pseudo_labels (bool): Also add the frames strictly between ED and
            ES (cyclically), labelled by ``{code}_sa_pseudo.nii.gz`` as
            written by ``tools/generate_pseudo_labels.py --dataset mnms``
            (paper 003's augmented training set). Defaults to False.
        pseudo_label_root (str, optional): Root of those files (same
            layout as ``data_root``); default: beside the images.
        strict (bool): Subjects dropped while building the dataset (a
            labelled subject without ``_sa_gt``, a subject folder without
            its ``_sa`` image) are counted in one
            :class:`~mmecho.datasets.drop_report.DatasetDropWarning` per
            build; with ``strict=True`` they raise
            :class:`DatasetFormatError` instead. Defaults to False.
    """

    METAINFO = dict(classes=MNMS_CLASSES, palette=MNMS_PALETTE)

    def __init__(self,
                 data_root: str,
                 info_file: str,
                 splits: Optional[Sequence[str]] = None,
                 vendors: Optional[Sequence[str]] = None,
                 instants: Sequence[str] = ('ED', 'ES'),
                 skip_empty_slices: bool = False,
                 pseudo_labels: bool = False,
                 pseudo_label_root: Optional[str] = None,
                 strict: bool = False,
                 **kwargs) -> None:
        self.strict = strict
        self.info_file = info_file
        self.pseudo_labels = pseudo_labels
        self.pseudo_label_root = pseudo_label_root
        self.splits = splits
        self.vendors = vendors
        self.instants = tuple(instants)
        self.skip_empty_slices = skip_empty_slices
        kwargs.setdefault('reduce_zero_label', False)
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        reader = MnMsReader(self.data_root, self.info_file)
        data_list = []
        report = DropReport()
        codes = reader.subjects(self.splits, self.vendors, report=report)
        report.finish(
            type(self).__name__,
            reader.info_path,
            strict=self.strict,
            hint='Their slices are left out')
        for code in codes:
            idx = reader.frame_indices(code)
            gt = reader._gt_path(code)
            label = None
            if self.skip_empty_slices:
                label, _ = load_medical_image(gt)
            for inst in self.instants:
                t = idx[inst]
                for z in range(idx['slices']):
                    if label is not None and not label[t, z].any():
                        continue
                    data_list.append(
                        self._slice_item(reader, code, gt, t, z, inst))
            if self.pseudo_labels:
                data_list += self._pseudo_items(reader, code, idx, label)
        check_not_empty(
            data_list,
            type(self).__name__,
            self.data_root,
            splits=self.splits,
            vendors=self.vendors,
            instants=self.instants,
            skip_empty_slices=self.skip_empty_slices)
        return data_list

    def _pseudo_items(self, reader, code, idx, label) -> List[dict]:
        path = pseudo_label_path(reader, code, self.pseudo_label_root)
        if not osp.isfile(path):
            raise DatasetFormatError(
                path, 'pseudo-labels not found: run tools/generate_pseudo_'
                'labels.py --dataset mnms first (or set pseudo_labels=False)')
        shape = read_image_shape(path)
        if shape[0] != idx['frames'] or shape[1] != idx['slices']:
            raise DatasetFormatError(
                path, f'pseudo-labels of shape {shape}, expected '
                f'{idx["frames"]} frames x {idx["slices"]} slices')
        items = []
        between = frames_ed_to_es(idx['ED'], idx['ES'], idx['frames'])[1:-1]
        for t in between:
            for z in range(idx['slices']):
                if label is not None and not label[idx['ED'], z].any():
                    continue
                items.append(
                    self._slice_item(reader, code, path, t, z, f't{t:02d}'))
        return items

    def _slice_item(self, reader: MnMsReader, code: str, seg_map_path: str,
                    t: int, z: int, instant: str) -> dict:
        """The data-list entry of slice ``z`` of frame ``t``."""
        return dict(
            img_path=reader._image_path(code),
            seg_map_path=seg_map_path,
            frame_index=t,
            slice_index=z,
            instant=instant,
            subject=code,
            vendor=reader.info[code]['Vendor'],
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            seg_fields=[])
