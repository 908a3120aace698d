# LinkNet (Chaurasia & Culurciello, 2017): additive encoder-decoder links.
_base_ = ['./segmentor.py']
model = dict(decode_head=dict(type='LinkNetHead', prefinal_channels=32))
