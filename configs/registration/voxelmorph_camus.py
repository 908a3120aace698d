# VoxelMorph-style dense displacement model, the alternative to the B-spline
# DLIR network: VxmDense's U-Net (16, 32, 32, 32) / (32, 32, 32, 32, 32, 16,
# 16), here predicting the displacement directly (integration_steps=0; the
# network's default, VoxelMorph's, is 7 steps at half resolution: see
# configs/mnms/voxelmorph_mnms.py for paper 003's full VoxelMorph), with the
# loss -NCC (global, from the B-spline config) + 1.0 x diffusion smoothness.
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
