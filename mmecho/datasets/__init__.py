# Copyright (c) mmecho contributors. All rights reserved.
from .camus import (CAMUS_CLASSES, CAMUSDataset, CAMUSFramePairDataset,
                    CAMUSSequenceDataset, CAMUSSequenceReader,
                    CAMUSThesisDataset, fold_subsets, official_subgroups,
                    read_split_file, stratified_folds, thesis_split_files,
                    write_thesis_split)
from .frame_pair_dataset import FramePairDataset, frame_pairs
from .io import DatasetFormatError
from .meis_dataset import MEISDataset, image_type_of
from .mnms import (MnMsDataset, MnMsFramePairDataset, MnMsReader,
                   frames_ed_to_es, read_mnms_info, to_uint8)
from .transforms import (CheckImageShape, LoadEchoFrame, LoadEchoLabelMap,
                         RandomCropKeepFraction, RandomPlacePad)

__all__ = [
    'CAMUS_CLASSES', 'CAMUSDataset', 'CAMUSThesisDataset',
    'CAMUSSequenceReader', 'read_split_file',
    'DatasetFormatError', 'MEISDataset', 'image_type_of', 'MnMsDataset',
    'MnMsReader', 'read_mnms_info', 'CheckImageShape', 'LoadEchoFrame',
    'LoadEchoLabelMap', 'RandomCropKeepFraction', 'RandomPlacePad',
    'thesis_split_files', 'write_thesis_split', 'fold_subsets',
    'official_subgroups', 'stratified_folds', 'FramePairDataset',
    'CAMUSFramePairDataset', 'frame_pairs', 'CAMUSSequenceDataset',
    'MnMsFramePairDataset', 'frames_ed_to_es', 'to_uint8'
]
