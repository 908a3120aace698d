# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms (multi-vendor cardiac MRI): the reader of its files (:mod:`.reader`),
the 2D slice dataset and the registration frame pairs."""
from .dataset import MNMS_CLASSES, MNMS_PALETTE, MnMsDataset
from .frame_pair_dataset import MnMsFramePairDataset
from .reader import (MnMsReader, find_subject_dirs, frames_ed_to_es,
                     pseudo_label_path, read_mnms_info, to_uint8)

__all__ = [
    'MNMS_CLASSES', 'MNMS_PALETTE', 'MnMsDataset', 'MnMsFramePairDataset',
    'MnMsReader', 'find_subject_dirs', 'frames_ed_to_es', 'pseudo_label_path',
    'read_mnms_info', 'to_uint8'
]
