# CAMUS 2D frames for the benchmark grid: ED and ES of both apical views,
# resized to 256x256 for the network; at test time the prediction is resized
# back and scored against the label map at its original resolution and pixel
# spacing (EchoSegMetric). Split: the official one (database_split/); the
# thesis split (random 80/10/10 over patients, written by
# tools/dataset_converters/camus_split.py) is selected by pointing the
# dataloaders' ``split`` at database_split/thesis_{training,validation,
# testing}.txt, or with tools/benchmark_grid.py --split thesis.
dataset_type = 'CAMUSDataset'
data_root = 'data/camus/'
crop_size = (256, 256)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'spacing', 'patient', 'view', 'instant', 'frame_index')
train_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='PackSegInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadEchoFrame'),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3)),
    dict(type='PackSegInputs', meta_keys=meta_keys)
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
val_evaluator = dict(type='EchoSegMetric')
test_evaluator = val_evaluator
