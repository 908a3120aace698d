# M&Ms short-axis slices at ED and ES (paper 003): training on
# Training/Labeled (vendors A and B), validation on Validation, test on
# Testing (vendors A-D). Slices resized to 256 x 256 for the network;
# predictions are compared at the original resolution.
dataset_type = 'MnMsDataset'
data_root = 'data/mnms/'
info_file = 'mnms_dataset_info.csv'
crop_size = (256, 256)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'spacing', 'subject', 'vendor', 'instant', 'frame_index',
             'slice_index')
train_pipeline = [
    dict(type='LoadEchoFrame', num_channels=1),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadEchoFrame', num_channels=1),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        info_file=info_file,
        splits=('Training/Labeled', ),
        skip_empty_slices=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        info_file=info_file,
        splits=('Validation', ),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        info_file=info_file,
        splits=('Testing', ),
        pipeline=test_pipeline))
val_evaluator = dict(type='MnMsVendorMetric')
test_evaluator = val_evaluator
