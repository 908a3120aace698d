# U-Net++ (Zhou et al., 2018): nested dense skip pathways.
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='UNetPlusPlusHead', decoder_channels=(256, 128, 64, 32, 16)))
