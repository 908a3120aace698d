# DLIR B-spline registration of CAMUS frames (paper 001, section 3.3):
# DIRNet with 32 kernels, B-spline grid spacing 32, loss -NCC + 1.0 x bending
# energy, AMSGrad Adam lr 1e-3, batch 32, 10,000 iterations over every
# intra-patient frame pair, frames at 512 x 512.
#
# Conventions: TorchIR's (the library paper 001 trained with), so the
# paper's alpha = 1.0 means what it meant there:
# - B-spline: TorchIR's control-point placement ((k + 0.5) * 32 - 1 px, no
#   outer rings) and channel order (head channel 0 = x), converted to
#   mmecho's (dy, dx) field by the network (convention='torchir');
# - bending energy: TorchIR's bending_energy_2d (mean over the two
#   components; before issue 14 mmecho summed them, 2x on quadratic fields);
# - NCC: global, but per sample and averaged over the batch (TorchIR pools
#   the batch into one NCC with unbiased stds; see docs/registration.md).
# Training data: paper 001 left the 94 TED patients out (806 sequences).
# With a file listing them (one id per line, path relative to data_root):
#   train_dataloader = dict(
#       dataset=dict(exclude='database_split/ted_patients.txt'))
_base_ = [
    '../_base_/datasets/camus_frame_pairs.py',
    '../_base_/default_runtime_reg.py'
]
model = dict(
    type='PairwiseRegistrator',
    network=dict(
        type='BSplineRegistrationNet',
        grid_spacing=32,
        kernels=32,
        convention='torchir'),
    loss_similarity=dict(type='NCCLoss', loss_weight=1.0),
    loss_regularization=dict(type='BendingEnergyLoss', loss_weight=1.0),
    num_classes=4)
max_iters = 10000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, amsgrad=True, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
