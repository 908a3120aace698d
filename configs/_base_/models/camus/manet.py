# MA-Net (Fan et al., 2020) as segmentation_models_pytorch 0.6.0 builds it
# (smp.MAnet defaults, the thesis's library): smp's position-wise attention
# block on the deepest level (1x1 query/key to 64 channels, 3x3 value and
# output convs, all plain convs with bias; one softmax over the whole
# hw x hw map and a reshape without transpose, see MANetHead), a multi-scale
# fusion attention block at each of the four skips (decoder widths 256, 128,
# 64, 32; squeeze-excitation reduction 16), a U-Net block to 16 channels at
# full resolution and a 3x3 classifier.
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='MANetHead',
        decoder_channels=(256, 128, 64, 32, 16),
        pab_channels=64,
        reduction=16,
        kernel_size=3))
