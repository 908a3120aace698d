# VoxelMorph-style dense displacement model, the alternative to the B-spline
# DLIR network: U-Net (16, 32, 32, 32) / (32, 32, 32, 32, 32, 16, 16),
# direct displacement (integration_steps=7 gives the diffeomorphic variant),
# loss -NCC + 1.0 x diffusion smoothness (VoxelMorph uses lambda ~1 with NCC).
_base_ = ['./bspline_dlir_camus.py']
model = dict(
    network=dict(
        _delete_=True,
        type='VoxelMorphUNet',
        enc_channels=(16, 32, 32, 32),
        dec_channels=(32, 32, 32, 32, 32, 16, 16),
        integration_steps=0),
    loss_regularization=dict(
        _delete_=True, type='DiffusionLoss', loss_weight=1.0))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
