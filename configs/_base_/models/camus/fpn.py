# FPN as segmentation_models_pytorch 0.6.0 builds it (smp.FPN defaults:
# pyramid 256, segmentation 128, merge 'add', dropout 0.2, nearest top-down,
# upsampling=4): a top-down pyramid on the stride 4-32 levels (1x1 laterals
# + nearest x2 + add, no 3x3 conv after the sum, unlike Lin et al. 2017 and
# mmseg's FPN neck), Kirillov et al.'s (2019) semantic branch (3x3
# conv-GroupNorm(32)-ReLU to 128 channels with bilinear x2 upsamplings down
# to stride 4, summed), dropout 0.2, a 1x1 conv to the classes and x4
# bilinear upsampling (align_corners=True).
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='SMPFPNHead',
        in_index=[1, 2, 3, 4],
        pyramid_channels=256,
        channels=128,
        dropout_ratio=0.2,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        upsampling=4))
