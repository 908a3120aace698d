# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS (2D apical echocardiography): the files of both releases
(:mod:`.files`, ``Info_*.cfg`` in :mod:`.info`), the datasets (2D frames,
the thesis's LV task, whole sequences, registration frame pairs), the
thesis split and cross-validation folds, and the nnU-Net v2 export."""
from .dataset import CAMUSDataset
from .files import (CAMUS_CLASSES, CAMUS_PALETTE, CAMUS_VIEWS, CAMUSFiles,
                    CAMUSSequenceReader, read_split_file, resolve_patients)
from .folds import fold_subsets, official_subgroups, stratified_folds
from .frame_pair_dataset import CAMUSFramePairDataset
from .info import check_camus_frames, read_camus_info, write_camus_info
from .nnunet_export import LABEL_SOURCES, export_camus_to_nnunet
from .sequence_dataset import CAMUSSequenceDataset
from .splits import thesis_split_files, write_thesis_split
from .thesis_dataset import CAMUSThesisDataset

__all__ = [
    'CAMUS_CLASSES', 'CAMUS_PALETTE', 'CAMUS_VIEWS', 'CAMUSFiles',
    'CAMUSSequenceReader', 'read_split_file', 'resolve_patients',
    'read_camus_info', 'write_camus_info', 'check_camus_frames',
    'CAMUSDataset', 'CAMUSThesisDataset', 'CAMUSSequenceDataset',
    'CAMUSFramePairDataset', 'thesis_split_files', 'write_thesis_split',
    'fold_subsets', 'official_subgroups', 'stratified_folds', 'LABEL_SOURCES',
    'export_camus_to_nnunet'
]
