# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS 2D frames (ED / ES, or every frame of the half sequences) as an
mmseg dataset; the file layout is described in :mod:`.files`."""
from typing import List, Optional, Sequence, Union

from mmseg.datasets import BaseSegDataset

from mmecho.registry import DATASETS
from ..drop_report import check_not_empty
from ..io import DatasetFormatError, read_image_shape
from .files import (CAMUS_CLASSES, CAMUS_PALETTE, CAMUS_VIEWS, CAMUSFiles,
                    resolve_patients)


@DATASETS.register_module()
class CAMUSDataset(BaseSegDataset):
    """2D frames of CAMUS as an mmseg dataset.

    Args:
        data_root (str): The CAMUS root (holding ``database_nifti`` or
            ``training``, and ``database_split``).
        patients_dir (str): ``'database_nifti'`` (2023) or ``'training'`` /
            ``'testing'`` (2019).
        split (str | list, optional): A split file relative to ``data_root``
            (``'database_split/subgroup_training.txt'``), a list of such files
            (folds) or of patient ids; None = every patient folder.
        views (Sequence[str]): Any of ``'2CH'``, ``'4CH'``.
        instants (Sequence[str] | str): ``('ED', 'ES')`` (annotated frames),
            or ``'all'`` for every frame of the labelled half sequence.
        sequence_labels (str): With ``instants='all'``, the label files of
            the sequences: ``'half_sequence_gt'`` (default, dense
            references) or ``'half_sequence_pseudo'`` (pseudo-labels).
        sequence_label_root (str, optional): Root holding those label files
            in the same layout, when they are not beside the images.
        frames (Sequence[int], optional): With ``instants='all'``, only
            these frame indices of each half sequence (0 = ED; the thesis
            grid used frame 2); a sequence too short for one of them raises
            :class:`DatasetFormatError`.
        pipeline (list): Typically ``LoadEchoFrame``, ``LoadEchoLabelMap``,
            resize, ``PackSegInputs`` with ``meta_keys`` including
            ``spacing``, ``patient``, ``view``, ``instant``.
        strict (bool): Accepted for the same interface as the other
            datasets; CAMUS drops nothing: a missing file, an Info file
            inconsistent with its sequence (ED, ES, NbFrame) or an empty
            selection always raises :class:`DatasetFormatError`.
    """

    METAINFO = dict(classes=CAMUS_CLASSES, palette=CAMUS_PALETTE)

    def __init__(self,
                 data_root: str,
                 patients_dir: str = 'database_nifti',
                 split: Union[None, str, Sequence[str]] = None,
                 views: Sequence[str] = CAMUS_VIEWS,
                 instants: Union[str, Sequence[str]] = ('ED', 'ES'),
                 sequence_labels: str = 'half_sequence_gt',
                 sequence_label_root: Optional[str] = None,
                 frames: Optional[Sequence[int]] = None,
                 strict: bool = False,
                 **kwargs) -> None:
        self.strict = strict
        if frames is not None:
            if instants != 'all':
                raise ValueError("frames selects frames of the half "
                                 "sequences: it needs instants='all', got "
                                 f'instants={instants!r}')
            frames = tuple(int(f) for f in frames)
            if not frames or min(frames) < 0:
                raise ValueError('frames must be non-negative frame indices,'
                                 f' got {frames}')
        self.frames = frames
        self.patients_dir = patients_dir
        self.sequence_labels = sequence_labels
        self.sequence_label_root = sequence_label_root
        self.split = split
        self.views = tuple(views)
        self.instants = instants
        kwargs.setdefault('reduce_zero_label', False)
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        patients = resolve_patients(self.data_root, self.patients_dir,
                                    self.split)
        data_list = []
        for pid in patients:
            for view in self.views:
                files = CAMUSFiles(self.data_root, self.patients_dir, pid,
                                   view)
                info = files.checked_info()
                common = dict(
                    patient=pid,
                    view=view,
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[],
                    image_quality=info.get('ImageQuality', 'unknown'))
                if self.instants == 'all':
                    img = files.sequence(gt=False)
                    gt = files.sequence(
                        gt=True,
                        label_name=self.sequence_labels,
                        label_root=self.sequence_label_root)
                    n = read_image_shape(img)[0]
                    n_gt = read_image_shape(gt)[0]
                    if n != n_gt:
                        raise DatasetFormatError(
                            gt, f'{n_gt} labelled frames but the sequence '
                            f'{img} has {n}; expected the same number')
                    if self.frames is not None and max(self.frames) >= n:
                        raise DatasetFormatError(
                            img, f'{n} frames; frame index '
                            f'{max(self.frames)} was asked for (frames='
                            f'{self.frames})', 'frames')
                    for t in (range(n) if self.frames is None else
                              self.frames):
                        name = ('ED' if t == 0 else 'ES' if t == n -
                                1 else f't{t:02d}')
                        data_list.append(
                            dict(
                                img_path=img,
                                seg_map_path=gt,
                                frame_index=t,
                                num_frames=n,
                                instant=name,
                                **common))
                else:
                    for inst in self.instants:
                        if inst not in ('ED', 'ES'):
                            raise ValueError(
                                f"instants must be 'all' or a subset of "
                                f"('ED', 'ES'), got {inst!r}")
                        data_list.append(
                            dict(
                                img_path=files.instant(inst, gt=False),
                                seg_map_path=files.instant(inst, gt=True),
                                frame_index=None,
                                instant=inst,
                                **common))
        check_not_empty(
            data_list,
            type(self).__name__,
            self.data_root,
            patients_dir=self.patients_dir,
            split=self.split,
            views=self.views,
            instants=self.instants)
        return data_list
