# U-Net (Ronneberger et al., 2015): mmecho's encoder-agnostic UNetHead.
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(type='UNetHead', decoder_channels=(256, 128, 64, 32, 16)))
