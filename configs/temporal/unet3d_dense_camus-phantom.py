# 2D+time U-Net on the CAMUS phantom at 16 x 128 x 128, trained on the
# bidirectional pseudo-labels (make demo-temporal).
_base_ = ['./unet3d_dense_camus.py']
data_root = 'data/camus_phantom/'
model = dict(
    backbone=dict(
        channels=(8, 16, 32, 64),
        pool_kernels=((1, 2, 2), (2, 2, 2), (2, 2, 2))))
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        label_root='data/camus_phantom_pseudo/bidirectional',
        size=(128, 128)))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, size=(128, 128)))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, size=(128, 128)))
max_iters = 600
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=600)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=600))
