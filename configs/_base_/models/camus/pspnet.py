# PSPNet (Zhao et al., 2017) as segmentation_models_pytorch 0.6.0 builds it
# (smp.PSPNet defaults: encoder_depth=3, psp_out_channels=512, batch norm,
# psp_dropout=0.2, upsampling=8): the encoder stops at the stride-8 level
# (levels 0-2; the deeper stages are not built), pyramid pooling (1, 2, 3,
# 6), each branch a 1x1 conv to C/4 (BN+ReLU, none on the 1x1 branch),
# concatenated with the level, a 1x1 conv-BN-ReLU to 512, dropout 0.2, a 3x3
# conv to the classes and x8 bilinear upsampling (align_corners=True).
# Unlike the paper (and mmseg's PSPHead): no dilated ResNet, a 1x1 instead
# of a 3x3 fusion conv, no auxiliary head.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(out_indices=(0, 1, 2)),
    decode_head=dict(
        type='SMPPSPHead',
        in_index=-1,
        channels=512,
        pool_sizes=(1, 2, 3, 6),
        dropout_ratio=0.2,
        upsampling=8))
