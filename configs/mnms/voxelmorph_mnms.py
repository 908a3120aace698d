# VoxelMorph-style registration of M&Ms short-axis frames (paper 003):
# intra-subject pairs of the frames between ED and ES of each slice, 2D
# U-Net dense field, loss -NCC + 1.0 x diffusion smoothness + Dice of the
# warped ED/ES labels (the paper trained VoxelMorph with the labels too;
# pairs without labels on both frames skip that term). Adam lr 1e-4.
_base_ = ['../_base_/default_runtime_reg.py']
data_root = 'data/mnms/'
info_file = 'mnms_dataset_info.csv'
reg_size = (256, 256)
model = dict(
    type='PairwiseRegistrator',
    network=dict(
        type='VoxelMorphUNet',
        enc_channels=(16, 32, 32, 32),
        dec_channels=(32, 32, 32, 32, 32, 16, 16),
        integration_steps=0),
    loss_similarity=dict(type='NCCLoss', loss_weight=1.0),
    loss_regularization=dict(type='DiffusionLoss', loss_weight=1.0),
    loss_label=dict(
        type='MultiClassDiceLoss',
        include_background=False,
        loss_weight=1.0,
        loss_name='loss_label'),
    num_classes=4)
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='MnMsFramePairDataset',
        data_root=data_root,
        info_file=info_file,
        splits=('Training/Labeled', ),
        size=reg_size,
        pairs='all'))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='MnMsFramePairDataset',
        data_root=data_root,
        info_file=info_file,
        splits=('Validation', ),
        size=reg_size,
        pairs='ed_es'))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='RegistrationMetric', structures=dict(LV=(1, ), MYO=(2, ), RV=(3, )))
test_evaluator = val_evaluator
max_iters = 5000
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4,
                                        weight_decay=0.0))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
