# The DLIR B-spline model on the CAMUS phantom (make demo-registration):
# frames at 128 x 128 with a grid spacing of 8 px keep the paper's 16 x 16
# control grid (512 / 32); batch 16, 1,500 iterations, fits a CPU.
# Conventions as the parent (TorchIR's B-spline placement, channel order and
# bending energy: paper 001's library); no TED patients to exclude.
_base_ = ['./bspline_dlir_camus.py']
data_root = 'data/camus_phantom/'
reg_size = (128, 128)
model = dict(network=dict(grid_spacing=8))
train_dataloader = dict(
    batch_size=16,
    dataset=dict(data_root=data_root, size=reg_size))
val_dataloader = dict(dataset=dict(data_root=data_root, size=reg_size))
test_dataloader = dict(dataset=dict(data_root=data_root, size=reg_size))
train_cfg = dict(max_iters=1500, val_interval=500)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=500))
