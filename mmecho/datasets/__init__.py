# Copyright (c) mmecho contributors. All rights reserved.
from .camus import (CAMUS_CLASSES, CAMUSDataset, CAMUSSequenceReader,
                    read_split_file)
from .camus_folds import fold_subsets, official_subgroups, stratified_folds
from .camus_sequence_dataset import CAMUSSequenceDataset
from .camus_thesis_dataset import CAMUSThesisDataset
from .camus_splits import thesis_split_files, write_thesis_split
from .frame_pair_dataset import (CAMUSFramePairDataset, FramePairDataset,
                                 frame_pairs)
from .io import DatasetFormatError
from .meis_dataset import MEISDataset, image_type_of
from .mnms import MnMsDataset, MnMsReader, read_mnms_info
from .mnms_frame_pairs import MnMsFramePairDataset, frames_ed_to_es, to_uint8
from .transforms import (CheckImageShape, LoadEchoFrame, LoadEchoLabelMap,
                         RandomCropKeepFraction, RandomPlacePad)

__all__ = [
    'CAMUS_CLASSES', 'CAMUSDataset', 'CAMUSThesisDataset', 'CAMUSSequenceReader', 'read_split_file',
    'DatasetFormatError', 'MEISDataset', 'image_type_of', 'MnMsDataset',
    'MnMsReader', 'read_mnms_info', 'CheckImageShape', 'LoadEchoFrame',
    'LoadEchoLabelMap', 'RandomCropKeepFraction', 'RandomPlacePad',
    'thesis_split_files', 'write_thesis_split', 'fold_subsets',
    'official_subgroups', 'stratified_folds', 'FramePairDataset',
    'CAMUSFramePairDataset', 'frame_pairs', 'CAMUSSequenceDataset',
    'MnMsFramePairDataset', 'frames_ed_to_es', 'to_uint8'
]
