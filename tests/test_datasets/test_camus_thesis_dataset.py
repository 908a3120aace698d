"""The thesis's CAMUS task: frame 2 of each 2CH half sequence, oriented and
binarised as the appendix does it with nibabel, the 400/50/50 split."""
import os
import os.path as osp
import random

import nibabel as nib
import numpy as np
import pytest

from mmecho.datasets import (CAMUSDataset, CAMUSThesisDataset,
                             DatasetFormatError, write_thesis_split)
from mmecho.utils import register_all_modules

register_all_modules()

PIPELINE = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='BinarizeLabel', foreground=(1, ))
]


def _appendix_frame(path):
    """The appendix: ``np.flipud(np.rot90(nib.load(f).get_fdata()[:, :,
    2]))``."""
    return np.flipud(np.rot90(nib.load(path).get_fdata()[:, :, 2]))


def test_one_frame_per_patient_as_the_appendix_reads_it(camus_root):
    ds = CAMUSThesisDataset(data_root=camus_root, pipeline=PIPELINE)
    patients = sorted(
        os.listdir(osp.join(camus_root, 'database_nifti')))
    assert len(ds) == len(patients)
    assert ds.metainfo['classes'] == ('background', 'LV')
    for i in range(len(ds)):
        item = ds[i]
        pid = item['patient']
        stem = osp.join(camus_root, 'database_nifti', pid,
                        f'{pid}_2CH_half_sequence')
        assert item['view'] == '2CH' and item['frame_index'] == 2
        img = _appendix_frame(stem + '.nii.gz')
        np.testing.assert_array_equal(item['img'][..., 0], img)
        mask = _appendix_frame(stem + '_gt.nii.gz').copy()
        mask[mask != 1] = 0  # binary_mask[binary_mask != 1] = 0
        np.testing.assert_array_equal(item['gt_seg_map'], mask)
        assert 0 < item['gt_seg_map'].sum() < item['gt_seg_map'].size


def test_a_sequence_too_short_for_the_frame_is_named(camus_root):
    with pytest.raises(DatasetFormatError,
                       match='2CH_half_sequence.*frame index 99'):
        CAMUSThesisDataset(data_root=camus_root, frames=(99, ))
    with pytest.raises(ValueError, match="instants='all'"):
        CAMUSDataset(data_root=camus_root, frames=(2, ), instants=('ED', ))


def test_thesis_split_is_400_50_50_in_shuffled_order(tmp_path):
    root = tmp_path / 'camus'
    ids = [f'patient{i:04d}' for i in range(1, 501)]
    for pid in ids:
        os.makedirs(root / 'database_nifti' / pid)
    split = write_thesis_split(str(root), seed=7)
    assert [len(split[s]) for s in ('training', 'validation',
                                    'testing')] == [400, 50, 50]
    # the appendix: random.shuffle(names); [:400], [400:450], [450:500]
    order = list(ids)
    random.Random(7).shuffle(order)
    assert split['training'] == sorted(order[:400])
    assert split['validation'] == sorted(order[400:450])
    assert split['testing'] == sorted(order[450:])
    listed = (root / 'database_split' / 'thesis_testing.txt').read_text()
    assert listed.split() == split['testing']
    assert write_thesis_split(str(root), seed=7) == split
    assert write_thesis_split(str(root), seed=8) != split


def test_small_split_keeps_a_patient_to_validate_and_test(tmp_path):
    root = tmp_path / 'camus'
    for i in range(1, 5):
        os.makedirs(root / 'database_nifti' / f'patient{i:04d}')
    split = write_thesis_split(str(root), seed=0)
    assert [len(split[s]) for s in ('training', 'validation',
                                    'testing')] == [2, 1, 1]
