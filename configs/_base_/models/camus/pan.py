# PAN (Li et al., 2018): FPA + GAU decoder, encoder dilated to output stride
# 16, output at stride 4.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(output_stride=16),
    decode_head=dict(type='PANHead', in_index=[1, 2, 3, 4],
                     decoder_channels=32))
