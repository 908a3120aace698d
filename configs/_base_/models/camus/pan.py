# PAN (Li et al., 2018) as segmentation_models_pytorch 0.6.0 builds it
# (smp.PAN defaults, the thesis's library): the encoder dilated to output
# stride 16 (stride-32 level dilation 2); feature pyramid attention on the
# deepest level and global attention upsampling through the stride-16, 8 and
# 4 levels, 32 channels, every conv with a bias before its BN (as smp), every
# resize bilinear with align_corners=True; a 3x3 classifier at stride 4 and
# x4 bilinear upsampling (align_corners=True). Needs inputs of at least
# 128x128 (as smp).
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=16),
    decode_head=dict(
        type='PANHead',
        in_index=[1, 2, 3, 4],
        decoder_channels=32,
        kernel_size=3,
        upsampling=4))
