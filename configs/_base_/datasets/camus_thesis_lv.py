# The CAMUS task of the grid thesis (paper 002, appendix): frame index 2 of
# every patientXXXX_2CH_half_sequence and its _gt, the LV cavity against
# everything else (one sigmoid channel), the seeded 400/50/50 split
# (database_split/thesis_*.txt, written by tools/benchmark_grid.py
# --protocol thesis or mmecho.datasets.write_thesis_split), the appendix's
# albumentations transforms (reproduced by mmecho's transforms), ImageNet
# normalisation, scored at 256x256 by BinarySegMetric (Accuracy = soft Dice,
# mIoU, Recall).
dataset_type = 'CAMUSThesisDataset'
data_root = 'data/camus/'
crop_size = (256, 256)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'spacing', 'patient', 'view', 'instant', 'frame_index',
             'num_frames')
# A.Resize(280, 280), A.RandomCrop(256, 256), A.ShiftScaleRotate(0.2, 0.2,
# 30), A.RGBShift(25, 25, 25), A.RandomBrightnessContrast(0.3, 0.3),
# A.Normalize (ImageNet; in the data preprocessor), p=0.5 each as
# albumentations' default.
train_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='BinarizeLabel', foreground=(1, )),
    dict(type='mmseg.Resize', scale=(280, 280), keep_ratio=False),
    dict(type='mmseg.RandomCrop', crop_size=crop_size),
    dict(
        type='ShiftScaleRotate',
        shift_limit=0.2,
        scale_limit=0.2,
        rotate_limit=30,
        prob=0.5),
    dict(
        type='RGBShift',
        r_shift_limit=25,
        g_shift_limit=25,
        b_shift_limit=25,
        prob=0.5),
    dict(
        type='RandomBrightnessContrast',
        brightness_limit=0.3,
        contrast_limit=0.3,
        prob=0.5),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
# A.Resize(256, 256), A.Normalize; scored at that resolution
test_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='BinarizeLabel', foreground=(1, )),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='ResetOriginalShape'),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
# Section 3 of the thesis (median denoising, threshold-based ROI crop) is
# not in its appendix code; insert dict(type='MedianDenoise') and
# dict(type='ThresholdROICrop') after BinarizeLabel to add it.
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/thesis_training.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/thesis_validation.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/thesis_testing.txt',
        pipeline=test_pipeline))
val_evaluator = dict(type='BinarySegMetric', group_size=4)
test_evaluator = val_evaluator
# Merged into every cell's model by the leaf configs (configs/camus_thesis):
# ImageNet mean/std on RGB (the thesis's A.Normalize), one output channel
# thresholded at 0.5, DiceBCELoss(weight=0.5), no CAMUS post-processing.
thesis_data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
thesis_decode_head = dict(
    num_classes=2,
    out_channels=1,
    threshold=0.5,
    loss_decode=[dict(type='DiceBCELoss', weight=0.5, smooth=1.0)])
thesis_test_cfg = dict(largest_component=False, fill_holes=False)
