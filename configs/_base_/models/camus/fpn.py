# FPN (Lin et al., 2017; Kirillov et al. panoptic-FPN semantic branch):
# mmseg's FPN neck on the stride 4-32 levels + mmseg's FPNHead (256 pyramid
# channels, 128 segmentation channels, output at stride 4).
_base_ = ['./segmentor.py']
model = dict(
    neck=dict(type='mmseg.FPN', out_channels=256, num_outs=4, start_level=1),
    decode_head=dict(
        type='mmseg.FPNHead',
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128))
