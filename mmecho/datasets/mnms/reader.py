# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms (multi-centre, multi-vendor cardiac MRI, Campello et al. 2021).

Layout::

    data/mnms/Training/Labeled/<code>/<code>_sa.nii.gz, <code>_sa_gt.nii.gz
    data/mnms/Training/Unlabeled/<code>/<code>_sa.nii.gz
    data/mnms/Validation/<code>/..., data/mnms/Testing/<code>/...
    data/mnms/<info>.csv  (External code, VendorName, Vendor, Centre, ED, ES)

``_sa`` is 4D short-axis cine, ``(x, y, slice, frame)`` on disk, read as
``(T, Z, H, W)``; ``_sa_gt`` is labelled (1 LV, 2 MYO, 3 RV) at the ED and ES
frames only (0-based indices in the CSV).
"""
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..drop_report import DropReport
from ..io import DatasetFormatError, load_medical_image, read_image_shape

REQUIRED_COLUMNS = ('External code', 'Vendor', 'Centre', 'ED', 'ES')


def read_mnms_info(path: str) -> Dict[str, Dict]:
    """Rows of the M&Ms information CSV keyed by ``External code``."""
    if not osp.isfile(path):
        raise DatasetFormatError(path, 'M&Ms information CSV not found')
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DatasetFormatError(
                path,
                f'missing columns {missing}; found {columns}',
                field='header')
        rows = {}
        for lineno, row in enumerate(reader, 2):
            row = {k.strip(): (v or '').strip() for k, v in row.items() if k}
            for key in ('ED', 'ES'):
                try:
                    row[key] = int(row[key])
                except ValueError:
                    raise DatasetFormatError(
                        path, f'line {lineno}: expected a 0-based frame '
                        f'index, got {row[key]!r}',
                        field=key)
            rows[row['External code']] = row
    return rows


def _walk_folders(data_root: str):
    """``(folder, file names)`` at depth 0 to 3 under ``data_root``."""
    base_depth = data_root.rstrip(os.sep).count(os.sep)
    for dirpath, dirnames, filenames in os.walk(data_root):
        depth = dirpath.count(os.sep) - base_depth
        if depth >= 3:
            dirnames[:] = []
        yield dirpath, filenames


def find_subject_dirs(data_root: str) -> Dict[str, str]:
    """``{code: folder}`` for every ``<code>/<code>_sa.nii[.gz]`` at depth
    1 to 3 under ``data_root``."""
    found = {}
    for dirpath, filenames in _walk_folders(data_root):
        code = osp.basename(dirpath)
        if f'{code}_sa.nii.gz' in filenames or f'{code}_sa.nii' in filenames:
            found[code] = dirpath
    return found


def _is_unlabelled_split(split: str) -> bool:
    """Folders whose subjects have no labels by design
    (``Training/Unlabeled``)."""
    return any(part.lower() in ('unlabeled', 'unlabelled')
               for part in split.split('/'))


class MnMsReader:
    """Subjects of M&Ms: 4D cine, labels, vendor, ED/ES.

    Args:
        data_root (str): The M&Ms root.
        info_file (str): The information CSV, relative to ``data_root``.
    """

    def __init__(self, data_root: str, info_file: str) -> None:
        self.data_root = data_root
        self.info_path = osp.join(data_root, info_file)
        self.info = read_mnms_info(self.info_path)
        self.dirs = find_subject_dirs(data_root)
        # folders named after a subject of the CSV without its _sa image
        self.incomplete = {
            osp.basename(d): d
            for d, _ in _walk_folders(data_root) if
            osp.basename(d) in self.info and osp.basename(d) not in self.dirs
        }

    def _split_of(self, folder: str) -> str:
        rel = osp.relpath(folder, self.data_root).replace(os.sep, '/')
        return rel.rsplit('/', 1)[0] if '/' in rel else ''

    def _num_slices(self, *paths) -> str:
        for p in paths:
            if p is not None and osp.isfile(p):
                try:
                    return f'{read_image_shape(p)[1]} slices'
                except (DatasetFormatError, IndexError):
                    pass
        return 'slices unknown'

    def subjects(self,
                 splits: Optional[Sequence[str]] = None,
                 vendors: Optional[Sequence[str]] = None,
                 labelled_only: bool = True,
                 report: Optional[DropReport] = None,
                 allow_empty: bool = False) -> List[str]:
        """Codes present on disk, filtered by split folder and vendor.

        Subjects of the selection that cannot be used are dropped and
        counted in ``report``: a folder named after a subject without its
        ``_sa`` image, and (with ``labelled_only``) a subject without
        ``_sa_gt`` outside a ``Training/Unlabeled`` folder (where subjects
        are unlabelled by design and left out silently). Without
        ``report``, one :class:`DatasetDropWarning` is emitted here.
        An empty result raises :class:`DatasetFormatError` naming the root
        and the filters unless ``allow_empty``.
        """
        own_report = report is None
        if own_report:
            report = DropReport()
        out = []
        for code, folder in sorted(self.dirs.items()):
            split = self._split_of(folder)
            if splits is not None and split not in splits:
                continue
            if code not in self.info:
                raise DatasetFormatError(
                    self.info_path,
                    f'subject {code} ({folder}) has no row',
                    field='External code')
            if vendors is not None and self.info[code]['Vendor'] not in \
                    vendors:
                continue
            if labelled_only and self._gt_path(code) is None:
                if not _is_unlabelled_split(split):
                    report.add(
                        'labelled subject without its _sa_gt label file',
                        f'{code} in {split or "."}/ '
                        f'({self._num_slices(self._image_path(code))})')
                continue
            out.append(code)
        for code, folder in sorted(self.incomplete.items()):
            split = self._split_of(folder)
            if splits is not None and split not in splits:
                continue
            if vendors is not None and self.info[code]['Vendor'] not in \
                    vendors:
                continue
            labels = (
                osp.join(folder, f'{code}_sa_gt{ext}')
                for ext in ('.nii.gz', '.nii'))
            report.add(
                'subject folder without its _sa image',
                f'{code} in {split or "."}/ (no {code}_sa.nii[.gz]; '
                f'{self._num_slices(*labels)})')
        if own_report:
            report.finish(
                'MnMsReader', self.info_path, hint='Their slices are left out')
        if not out and not allow_empty:
            found = sorted({self._split_of(d) for d in self.dirs.values()})
            raise DatasetFormatError(
                self.data_root, f'no subject selected by splits={splits!r}, '
                f'vendors={vendors!r}, labelled_only={labelled_only}; '
                'expected at least one (subject folders found: '
                f'{len(self.dirs)}, in split folders {found})')
        return out

    def _image_path(self, code):
        d = self.dirs.get(code)
        if d is None:
            raise DatasetFormatError(
                self.info_path, f'subject {code} listed but no folder '
                f'{code}/ with {code}_sa.nii.gz under {self.data_root}',
                field='External code')
        for ext in ('.nii.gz', '.nii'):
            p = osp.join(d, f'{code}_sa{ext}')
            if osp.isfile(p):
                return p

    def _gt_path(self, code):
        d = self.dirs[code]
        for ext in ('.nii.gz', '.nii'):
            p = osp.join(d, f'{code}_sa_gt{ext}')
            if osp.isfile(p):
                return p
        return None

    def frame_indices(self, code: str) -> Dict[str, int]:
        """Validated ED/ES indices of a subject."""
        shape = read_image_shape(self._image_path(code))
        if len(shape) != 4:
            raise DatasetFormatError(
                self._image_path(code), f'expected a 4D (x, y, slice, '
                f'frame) volume, got {len(shape)}D')
        row = self.info[code]
        for key in ('ED', 'ES'):
            if not 0 <= row[key] < shape[0]:
                raise DatasetFormatError(
                    self.info_path, f'{code}: frame {row[key]} outside the '
                    f'{shape[0]} frames of the volume',
                    field=key)
        return dict(
            ED=row['ED'], ES=row['ES'], frames=shape[0], slices=shape[1])

    def load(self, code: str) -> Dict:
        """``image`` ``(T, Z, H, W)``, ``label`` (same shape, or None),
        ``spacing`` ``(dt, dz, dy, dx)``, ``vendor``, ``centre``, ``ed``,
        ``es``."""
        img_path = self._image_path(code)
        image, spacing = load_medical_image(img_path)
        if image.ndim != 4:
            raise DatasetFormatError(
                img_path, f'expected a 4D volume, got shape {image.shape}')
        gt_path = self._gt_path(code)
        label = None
        if gt_path is not None:
            label, _ = load_medical_image(gt_path)
            if label.shape != image.shape:
                raise DatasetFormatError(
                    gt_path, f'labels of shape {label.shape} but the image '
                    f'{img_path} has shape {image.shape}')
            label = label.astype(np.uint8)
        idx = self.frame_indices(code)
        row = self.info[code]
        return dict(
            code=code,
            image=image,
            label=label,
            spacing=spacing,
            vendor=row['Vendor'],
            centre=row['Centre'],
            ed=idx['ED'],
            es=idx['ES'],
            img_path=img_path,
            seg_map_path=gt_path)


def pseudo_label_path(reader: MnMsReader,
                      code: str,
                      root: Optional[str] = None) -> str:
    """``{root}/{split}/{code}/{code}_sa_pseudo.nii.gz``, ``root``
    defaulting to the data root (beside the images)."""
    folder = reader.dirs[code]
    if root:
        folder = osp.join(root, osp.relpath(folder, reader.data_root))
    return osp.join(folder, f'{code}_sa_pseudo.nii.gz')


def frames_ed_to_es(ed: int, es: int, num_frames: int) -> List[int]:
    """Frame indices from ED to ES inclusive, wrapping around the cycle."""
    if es >= ed:
        return list(range(ed, es + 1))
    return list(range(ed, num_frames)) + list(range(0, es + 1))


def to_uint8(volume: np.ndarray) -> np.ndarray:
    """Percentile (1, 99) scaling of an MRI volume to uint8."""
    v = volume.astype(np.float32)
    lo, hi = np.percentile(v, (1, 99))
    if hi <= lo:
        hi = lo + 1.0
    return (np.clip((v - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
