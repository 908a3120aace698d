# Paper 003's VoxelMorph on M&Ms short-axis frames: "the standard
# configuration of VoxelMorph", trained with the labels, i.e. the defaults of
# VoxelMorph's semi-supervised training script (scripts/tf/
# train_semisupervised_seg.py) and of VxmDense (voxelmorph/*/networks.py);
# table with sources: docs/registration.md, "Paper 003's VoxelMorph".
#   network   VxmDense 2D: enc (16, 32, 32, 32), dec (32, 32, 32, 32, 32, 16,
#             16), 109,170 parameters; diffeomorphic: 7 scaling-and-squaring
#             steps on a velocity at half resolution (int_downsize 2)
#   loss      MSE(fixed, warped) + 0.01 x Grad('l2', loss_mult=2) of the
#             pre-integration velocity + 0.01 x Dice loss of the warped
#             labels (pairs without labels on both frames skip that term)
#   optimiser Adam lr 1e-4
# Intra-subject pairs of the frames between ED and ES of each slice.
_base_ = ['../_base_/default_runtime_reg.py']
data_root = 'data/mnms/'
info_file = 'mnms_dataset_info.csv'
reg_size = (256, 256)
vxm_lambda = 0.01  # --grad-loss-weight
vxm_int_downsize = 2  # --int-downsize, also Grad's loss_mult
model = dict(
    type='VoxelMorphRegistrator',
    network=dict(
        type='VoxelMorphUNet',
        enc_channels=(16, 32, 32, 32),
        dec_channels=(32, 32, 32, 32, 32, 16, 16),
        integration_steps=7,
        int_downsize=vxm_int_downsize),
    # --image-loss mse (vxm.losses.MSE: mean squared difference)
    loss_similarity=dict(type='mmdet.MSELoss', loss_weight=1.0),
    # vxm.losses.Grad('l2', loss_mult=int_downsize) x lambda on preint_flow;
    # DiffusionLoss = neurite's Grad('l2') (mean over components and
    # directions)
    loss_regularization=dict(
        type='DiffusionLoss', loss_weight=vxm_lambda * vxm_int_downsize),
    # --dice-loss-weight 0.01 (vxm.losses.Dice = -mean Dice; 1 - mean Dice
    # here, the same gradient)
    loss_label=dict(
        type='MultiClassDiceLoss',
        include_background=False,
        loss_weight=0.01,
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
