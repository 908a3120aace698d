# make demo: the headline config (rtm_assigner.py) on the generated MEIS
# phantom, sized for a 2-core CPU. Changes only data, input size, width and
# schedule: UPANet16 (FPN/head width 64), 256x256 input, short schedule.
_base_ = './rtm_assigner.py'

data_root = 'data/meis_phantom/'
img_scale = (256, 256)
width = 16
feat = 64

model = dict(
    backbone=dict(width=width),
    neck=dict(
        in_channels=[4 * width, 8 * width, 16 * width], out_channels=feat),
    bbox_head=dict(
        in_channels=feat,
        feat_channels=feat,
        # anchor sizes scaled with the input (32..512 px at 544)
        anchor_generator=dict(base_sizes=[16, 32, 64, 128, 256])),
    mask_head=dict(in_channels=feat))

bgr_mean = (103.94, 116.78, 123.68)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'image_type')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CheckImageShape'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='mmdet.PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.7, 1.3),
        saturation_range=(0.7, 1.3),
        hue_delta=15),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomCropKeepFraction',
        crop_size=(0.6, 1.0),
        crop_type='relative_range',
        min_visible=0.3,
        prob=0.5),
    dict(type='RandomPlacePad', square=True, pad_val=bgr_mean),
    dict(
        type='RandomChoiceResize',
        scales=[(16 * k, 16 * k) for k in range(12, 21)],  # 192..320
        keep_ratio=True),
    dict(type='RandomCropKeepFraction', crop_size=img_scale, min_visible=0.3),
    dict(type='RandomPlacePad', size=img_scale, pad_val=bgr_mean),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(4, 4), keep_empty=False),
    dict(type='mmdet.PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CheckImageShape'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=bgr_mean)),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'Allmode_test.json')
test_evaluator = val_evaluator

max_iters = 500
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[400],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=1e-2), clip_grad=dict(max_norm=10))
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)  # a reproducible demo
