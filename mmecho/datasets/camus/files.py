# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS (2D apical echo, 500 patients), both public releases.

2023 NIfTI release (``patients_dir='database_nifti'``)::

    data/camus/database_nifti/patient0001/
        patient0001_{2CH,4CH}_{ED,ES}.nii.gz, ..._{ED,ES}_gt.nii.gz
        patient0001_{2CH,4CH}_half_sequence.nii.gz, ..._half_sequence_gt.nii.gz
        Info_2CH.cfg, Info_4CH.cfg
    data/camus/database_split/subgroup_{training,validation,testing}.txt

2019 MetaImage release (``patients_dir='training'``): the same stems as
``.mhd``/``.raw``, the sequence as ``..._sequence.mhd`` (unlabelled). Files
are resolved by stem, so ``.nii.gz``, ``.nii`` and ``.mhd`` all work.

Labels: 0 background, 1 LV cavity, 2 LV myocardium, 3 left atrium. Pixel
spacing ``(row_mm, col_mm)`` is read from the header at load time and kept
in the sample's metainfo as ``spacing``.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..io import (DatasetFormatError, find_image, load_medical_image,
                  read_image_shape, resolve_image)
from .info import check_camus_frames, read_camus_info

CAMUS_CLASSES = ('background', 'LV', 'myocardium', 'LA')
CAMUS_PALETTE = [[0, 0, 0], [230, 60, 60], [60, 200, 90], [70, 110, 240]]
CAMUS_VIEWS = ('2CH', '4CH')


def read_split_file(path: str) -> List[str]:
    """Patient ids, one per line (``patient0001``)."""
    if not osp.isfile(path):
        raise DatasetFormatError(
            path, 'split file not found (expected one '
            'patient id per line)')
    with open(path, encoding='utf-8') as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise DatasetFormatError(
            path, 'no patient ids in the split file (expected one id like '
            '"patient0001" per line)')
    for i in ids:
        if not i.startswith('patient'):
            raise DatasetFormatError(
                path, f'expected patient ids like "patient0001", got {i!r}')
    return ids


def resolve_patients(data_root: str, patients_dir: str,
                     split: Union[None, str, Sequence[str]]) -> List[str]:
    """Patient ids selected by ``split`` (None = all folders; a split file
    path relative to ``data_root``; a list of ids, or of split files), each
    checked to exist under ``patients_dir``."""
    root = osp.join(data_root, patients_dir)
    if not osp.isdir(root):
        raise DatasetFormatError(
            root, 'patients folder not found (expected '
            '"database_nifti" for the 2023 release or "training" for 2019)')
    if split is None:
        ids = sorted(
            d for d in os.listdir(root)
            if d.startswith('patient') and osp.isdir(osp.join(root, d)))
        if not ids:
            raise DatasetFormatError(
                root, 'no patient folders (expected patient0001/, ... '
                'with the images and Info_*.cfg of each patient)')
        return ids
    items = [split] if isinstance(split, str) else list(split)
    ids, source = [], {}
    for item in items:
        if item.startswith('patient') and '/' not in item and \
                not item.endswith('.txt'):
            ids.append(item)
            source[item] = '<patients list>'
        else:
            path = osp.join(data_root, item)
            for i in read_split_file(path):
                ids.append(i)
                source[i] = path
    for i in ids:
        if not osp.isdir(osp.join(root, i)):
            raise DatasetFormatError(
                source[i], f'names patient {i!r}, but {osp.join(root, i)} '
                'does not exist')
    return ids


class CAMUSFiles:
    """Paths and info of one patient's view, for either release."""

    def __init__(self, data_root: str, patients_dir: str, patient: str,
                 view: str) -> None:
        if view not in CAMUS_VIEWS:
            raise ValueError(f'view must be one of {CAMUS_VIEWS}, got {view}')
        self.dir = osp.join(data_root, patients_dir, patient)
        self.patients_dir = patients_dir
        self.patient, self.view = patient, view
        self.stem = osp.join(self.dir, f'{patient}_{view}')
        self.info_path = osp.join(self.dir, f'Info_{view}.cfg')

    def info(self) -> Dict:
        """The parsed ``Info_*.cfg`` (no check against the sequence; see
        :meth:`checked_info`)."""
        return read_camus_info(self.info_path)

    def checked_info(self) -> Dict:
        """:meth:`info`, with ED, ES and NbFrame checked against the number
        of frames of the (half) sequence, read from its header (only
        against ``NbFrame`` when there is no sequence file)."""
        info = self.info()
        seq = self.sequence(gt=False, required=False)
        n = None if seq is None else read_image_shape(seq)[0]
        check_camus_frames(info, self.info_path, n, seq)
        return info

    def instant(self, instant: str, gt: bool) -> str:
        suffix = f'_{instant}' + ('_gt' if gt else '')
        what = f'{instant} {"label map" if gt else "image"}'
        return resolve_image(self.stem + suffix, what)

    def sequence(self,
                 gt: bool,
                 required: bool = True,
                 label_name: str = 'half_sequence_gt',
                 label_root: Optional[str] = None) -> Optional[str]:
        """The half sequence (2023) or sequence (2019) file.

        With ``gt=True``: the labels of every frame, ``{stem}_{label_name}``
        (``half_sequence_gt``, or ``half_sequence_pseudo`` as written by
        ``tools/generate_pseudo_labels.py``), looked up under ``label_root``
        (same layout as ``data_root``) when given.
        """
        stem = self.label_stem(label_root) if gt else self.stem
        names = [f'_{label_name}'] if gt else ['_half_sequence', '_sequence']
        for name in names:
            path = find_image(stem + name)
            if path is not None:
                return path
        if required:
            resolve_image(stem + names[0],
                          'half-sequence ' + ('labels' if gt else 'images'))
        return None

    def label_stem(self, label_root: Optional[str] = None) -> str:
        """``{root}/{patients_dir}/{patient}/{patient}_{view}`` with
        ``root`` = ``label_root`` (a separate root with the same layout, as
        pseudo-labels may use) or the data root."""
        if label_root is None:
            return self.stem
        return osp.join(label_root, self.patients_dir, self.patient,
                        f'{self.patient}_{self.view}')

    def ed_to_es(self) -> Dict:
        """The frames from ED to ES of the (half) sequence, with ED and ES
        checked against ``Info_*.cfg``.

        Returns:
            dict: ``frames`` ``(T', H, W)`` uint8 (ED first, ES last),
            ``ed``, ``es`` (0-based indices in the file), ``shape`` of the
            whole file ``(T, H, W)``, ``spacing`` ``(row_mm, col_mm)``,
            ``file_spacing`` (every axis, as in the file), ``img_path``.
        """
        info = self.info()
        img_path = self.sequence(gt=False)
        seq, spacing = load_medical_image(img_path)
        if seq.ndim != 3:
            raise DatasetFormatError(
                img_path, f'expected a (T, H, W) sequence, got {seq.shape}')
        check_camus_frames(info, self.info_path, seq.shape[0], img_path)
        ed, es = info['ed_index'], info['es_index']
        return dict(
            frames=seq[ed:es + 1].astype(np.uint8),
            ed=ed,
            es=es,
            shape=seq.shape,
            spacing=tuple(float(v) for v in spacing[-2:]),
            file_spacing=tuple(float(v) for v in spacing),
            img_path=img_path)

    def instant_labels(self, frame_shape: Sequence[int]):
        """``(ED, ES)`` manual label maps, each checked to be
        ``frame_shape`` ``(H, W)``."""
        out = []
        for inst in ('ED', 'ES'):
            path = self.instant(inst, gt=True)
            lab, _ = load_medical_image(path)
            if lab.shape != tuple(frame_shape):
                raise DatasetFormatError(
                    path, f'label map of shape {lab.shape}, but the frames '
                    f'of the sequence are {tuple(frame_shape)}')
            out.append(lab.astype(np.uint8))
        return tuple(out)

    def sequence_label_array(self,
                             shape: Sequence[int],
                             label_name: str = 'half_sequence_gt',
                             label_root: Optional[str] = None) -> np.ndarray:
        """Labels of every frame (see :meth:`sequence`), checked to have
        the sequence's ``shape`` ``(T, H, W)``; uint8."""
        path = self.sequence(
            gt=True, label_name=label_name, label_root=label_root)
        lab, _ = load_medical_image(path)
        if lab.shape != tuple(shape):
            raise DatasetFormatError(
                path, f'labels of shape {lab.shape}, but the sequence has '
                f'{tuple(shape)}')
        return lab.astype(np.uint8)


class CAMUSSequenceReader:
    """Whole sequences of CAMUS patients, for temporal work.

    ``load(patient, view)`` returns a dict with ``frames`` ``(T, H, W)``
    uint8, ``labels`` ``(T, H, W)`` uint8 or None (2019 sequences are
    unlabelled), ``spacing`` ``(row_mm, col_mm)``, ``info`` (the parsed
    ``Info_*.cfg``), ``ed_index`` and ``es_index`` (0-based, relative to the
    returned frames) and the file paths.
    """

    def __init__(self,
                 data_root: str,
                 patients_dir: str = 'database_nifti') -> None:
        self.data_root = data_root
        self.patients_dir = patients_dir

    def patients(self, split=None) -> List[str]:
        return resolve_patients(self.data_root, self.patients_dir, split)

    def load(self, patient: str, view: str) -> Dict:
        files = CAMUSFiles(self.data_root, self.patients_dir, patient, view)
        info = files.info()
        img_path = files.sequence(gt=False)
        frames, spacing = load_medical_image(img_path)
        if frames.ndim != 3:
            raise DatasetFormatError(
                img_path, f'expected a (T, H, W) sequence, got shape '
                f'{frames.shape}')
        gt_path = files.sequence(gt=True, required=False)
        labels = None
        if gt_path is not None:
            labels, _ = load_medical_image(gt_path)
            if labels.shape != frames.shape:
                raise DatasetFormatError(
                    gt_path, f'labels of shape {labels.shape} but the '
                    f'sequence {img_path} has shape {frames.shape}')
            labels = labels.astype(np.uint8)
        check_camus_frames(info, files.info_path, frames.shape[0], img_path)
        ed, es = info['ed_index'], info['es_index']
        return dict(
            patient=patient,
            view=view,
            frames=frames.astype(np.uint8),
            labels=labels,
            spacing=tuple(float(s) for s in spacing[-2:]),
            info=info,
            ed_index=ed,
            es_index=es,
            img_path=img_path,
            seg_map_path=gt_path)
