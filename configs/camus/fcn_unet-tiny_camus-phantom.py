# A tiny U-Net (mmseg UNet backbone + FCN head) on the CAMUS phantom: a
# smoke-test config for the CAMUS loaders, tools and multi-process training.
_base_ = [
    '../_base_/datasets/camus_frames.py', '../_base_/default_runtime_seg.py'
]
data_root = 'data/camus_phantom/'
crop_size = (64, 64)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'spacing', 'patient', 'view', 'instant', 'frame_index')
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
    batch_size=4,
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

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='mmseg.EncoderDecoder',
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[60.0, 60.0, 60.0],
        std=[50.0, 50.0, 50.0],
        bgr_to_rgb=False,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone=dict(
        type='mmseg.UNet',
        in_channels=3,
        base_channels=8,
        num_stages=3,
        strides=(1, 1, 1),
        enc_num_convs=(2, 2, 2),
        dec_num_convs=(2, 2),
        downsamples=(True, True),
        enc_dilations=(1, 1, 1),
        dec_dilations=(1, 1),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='mmseg.InterpConv')),
    decode_head=dict(
        type='mmseg.FCNHead',
        in_channels=8,
        in_index=2,
        channels=8,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=4,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='mmseg.CrossEntropyLoss', use_sigmoid=False,
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

max_iters = 20
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(by_epoch=False, interval=10))
