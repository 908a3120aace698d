# MEIS M-mode instance segmentation (IVS, LVPW, LA, AoR), COCO format.
dataset_type = 'MEISDataset'
data_root = 'data/meis/'
backend_args = None
img_scale = (544, 544)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'image_type')

# RAMEM's training augmentation (reference_methods.md section 2), built from
# mmdet transforms plus two mmecho ones (keep-30 % crop, random placement).
bgr_mean = (103.94, 116.78, 123.68)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='CheckImageShape'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='mmdet.PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.7, 1.3),
        saturation_range=(0.7, 1.3),
        hue_delta=15),
    dict(type='RandomFlip', prob=0.5),  # horizontal: time axis only
    dict(
        type='RandomCropKeepFraction',
        crop_size=(0.6, 1.0),
        crop_type='relative_range',
        min_visible=0.3,
        prob=0.5),
    dict(type='RandomPlacePad', square=True, pad_val=bgr_mean),
    dict(
        type='RandomChoiceResize',
        scales=[(32 * k, 32 * k) for k in range(8, 25)],  # 256..768
        keep_ratio=True),
    dict(type='RandomCropKeepFraction', crop_size=img_scale, min_visible=0.3),
    dict(type='RandomPlacePad', size=img_scale, pad_val=bgr_mean),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(4, 4), keep_empty=False),
    dict(type='mmdet.PackDetInputs', meta_keys=meta_keys)
]
# Test: pad to a square anchored top-left and resize to the input size, i.e.
# keep-ratio resize then pad bottom/right.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='CheckImageShape'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=bgr_mean)),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=9,  # RAMEM's train_bs (see docs); lr is not rescaled
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='Allmode_train.json',
        data_prefix=dict(img='raw_image/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='Allmode_test.json',
        data_prefix=dict(img='raw_image/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='EchoCocoMetric',
    ann_file=data_root + 'Allmode_test.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
