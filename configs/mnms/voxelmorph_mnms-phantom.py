# Paper 003's VoxelMorph (./voxelmorph_mnms.py: VxmDense, 7 integration steps
# at half resolution, MSE + 0.01 Grad + 0.01 Dice) on the M&Ms phantom
# (tools/mnms_benchmark.py's default). Only the size and the schedule change:
# slices at 128 x 128, batch 8, 600 iterations at lr 1e-3 (VoxelMorph's
# 1e-4 is for ~150k iterations), fits a CPU.
_base_ = ['./voxelmorph_mnms.py']
data_root = 'data/mnms_phantom/'
reg_size = (128, 128)
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, size=reg_size))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, size=reg_size))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300))
