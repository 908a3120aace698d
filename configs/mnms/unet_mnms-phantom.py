# Paper 003's U-Net on the M&Ms phantom at 128 x 128 (tools/mnms_benchmark.py
# default): batch 8, 20 epochs.
_base_ = ['./unet_mnms.py']
data_root = 'data/mnms_phantom/'
crop_size = (128, 128)
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
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=10))
