# CAMUS 2D frames (2023 NIfTI release), official split, ED and ES.
dataset_type = 'CAMUSDataset'
data_root = 'data/camus/'
crop_size = (256, 256)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'spacing', 'patient', 'view', 'instant', 'frame_index',
             'num_frames')
train_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_training.txt',
        instants=('ED', 'ES'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_validation.txt',
        instants=('ED', 'ES'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_testing.txt',
        instants=('ED', 'ES'),
        pipeline=test_pipeline))
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU', 'mDice'])
test_evaluator = val_evaluator
