# Demo: mmdet's stock YOLACT-R50 trained for a few dozen iterations on the
# generated MEIS phantom (make demo), on CPU. Input 320 px, batch 4.
_base_ = [
    '../_base_/models/yolact_r50.py', '../_base_/datasets/meis_instance.py',
    '../_base_/default_runtime_det.py'
]
data_root = 'data/meis_phantom/'
input_size = 320
feat_sizes = [40, 20, 10, 5, 3]  # ceil(320 / 8 ... 128)
model = dict(
    bbox_head=dict(
        anchor_generator=dict(
            strides=[input_size / x for x in feat_sizes],
            centers=[(input_size * 0.5 / x, input_size * 0.5 / x)
                     for x in feat_sizes])))

img_scale = (input_size, input_size)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'image_type')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CheckImageShape'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CheckImageShape'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'Allmode_test.json')
test_evaluator = val_evaluator

max_iters = 40
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=max_iters,
                    by_epoch=False))
log_processor = dict(by_epoch=False)
