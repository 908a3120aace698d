# DeepLabV3 (Chen et al., 2017): mmseg's ASPPHead (rates 12, 24, 36 + 1x1 +
# image pooling, 256 channels) on an encoder dilated to output stride 8.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=8),
    decode_head=dict(
        type='mmseg.ASPPHead',
        in_index=4,
        channels=256,
        dilations=(1, 12, 24, 36)))
