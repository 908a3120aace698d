# DeepLabV3 (Chen et al., 2017, arXiv 1706.05587) as segmentation_models_pytorch
# 0.6.0 builds it (smp.DeepLabV3 defaults, the thesis's library): the encoder
# dilated to output stride 8 (stride-16 level dilation 2, stride-32 level
# dilation 4, as smp's make_dilated); ASPP on the deepest level with a 1x1
# branch, atrous 3x3 branches at rates 12, 24, 36 (not separable) and image
# pooling, 256 channels each, BN + ReLU; a 1x1 projection 1280 -> 256 + BN +
# ReLU + dropout 0.5; a 3x3 conv 256 -> 256 + BN + ReLU; a 1x1 classifier and
# bilinear x8 upsampling (align_corners=True). See SMPDeepLabV3Head for where
# smp departs from the paper and from mmseg's ASPPHead.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=8),
    decode_head=dict(
        type='SMPDeepLabV3Head',
        in_index=4,
        channels=256,
        dilations=(12, 24, 36),
        aspp_separable=False,
        aspp_dropout=0.5,
        upsampling=8))  # = the encoder's output stride
