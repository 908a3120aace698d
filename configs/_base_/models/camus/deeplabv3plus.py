# DeepLabV3+ (Chen et al., ECCV 2018, arXiv 1802.02611) as
# segmentation_models_pytorch 0.6.0 builds it (smp.DeepLabV3Plus defaults, the
# thesis's library): the encoder dilated to output stride 16 (stride-32 level
# dilation 2); separable ASPP on the deepest level (1x1 branch, depthwise-
# separable atrous 3x3 branches at rates 12, 24, 36, image pooling; 256
# channels, BN + ReLU), a 1x1 projection 1280 -> 256 + BN + ReLU + dropout
# 0.5, a separable 3x3 256 -> 256 + BN + ReLU; x4 bilinear upsampling
# (align_corners=True) to the stride-4 level, which is reduced by a 1x1 conv
# to 48 channels + BN + ReLU; concatenation, one separable 3x3 (304 -> 256) +
# BN + ReLU, a 1x1 classifier and bilinear x4 upsampling. The encoder returns
# levels 1 (stride 4, the head's first input) and 4.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=16, out_indices=(1, 4)),
    decode_head=dict(
        type='SMPDeepLabV3PlusHead',
        in_index=[0, 1],  # in_channels filled from the encoder
        channels=256,
        dilations=(12, 24, 36),
        aspp_separable=True,
        aspp_dropout=0.5,
        c1_channels=48,
        upsampling=4))
