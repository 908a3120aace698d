# MA-Net (Fan et al., 2020): position attention + multi-scale fusion attention.
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='MANetHead',
        decoder_channels=(256, 128, 64, 32, 16),
        pab_channels=64))
