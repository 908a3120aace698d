# 2D+time U-Net trained on registration pseudo-labels of every frame (paper
# 001's "3D dense" model, with mmecho's UNet3D instead of nnU-Net): Adam 1e-3
# with polynomial decay, CE + multi-class Dice, 20k iterations of 2 sequences.
_base_ = [
    '../_base_/datasets/camus_sequences.py',
    '../_base_/schedules/camus_20k.py', '../_base_/camus_runtime.py'
]
model = dict(
    type='SequenceSegmentor',
    backbone=dict(
        type='UNet3D',
        in_channels=1,
        channels=(16, 32, 64, 128, 256),
        pool_kernels=((1, 2, 2), (2, 2, 2), (2, 2, 2), (1, 2, 2))),
    num_classes=4)
default_hooks = dict(
    checkpoint=dict(save_best='seq/LV_Dice_all', rule='greater'))
