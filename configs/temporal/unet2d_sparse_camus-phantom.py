# 2D sparse on the CAMUS phantom at 128 x 128 (make demo-temporal).
_base_ = ['./unet2d_sparse_camus.py']
data_root = 'data/camus_phantom/'
crop_size = (128, 128)
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
max_iters = 600
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=600)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=600))
