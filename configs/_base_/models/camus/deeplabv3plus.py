# DeepLabV3+ (Chen et al., 2018): mmseg's DepthwiseSeparableASPPHead (rates
# 12, 24, 36, separable convs) on an encoder dilated to output stride 16,
# with the stride-4 level as low-level feature (48 channels). The encoder
# returns levels 1 (stride 4, the head's first input) and 4.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=16, out_indices=(1, 4)),
    decode_head=dict(
        type='mmseg.DepthwiseSeparableASPPHead',
        in_index=1,
        channels=256,
        dilations=(1, 12, 24, 36),
        c1_in_channels=None,  # filled from the encoder's stride-4 level
        c1_channels=48))
