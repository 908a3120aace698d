# U-Net (Ronneberger et al., 2015) as segmentation_models_pytorch 0.6.0 builds
# it (smp.Unet defaults, the thesis's library): five decoder blocks of widths
# 256, 128, 64, 32, 16 (deepest first), each nearest x2 upsampling,
# concatenation of the next shallower level (none for the last block) and two
# 3x3 conv-BN-ReLU; a 3x3 classifier at full resolution. Unlike the paper:
# BN, padded convs, no learned up-convolution, fixed decoder widths, 3x3
# instead of 1x1 classifier (see UNetHead).
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='UNetHead',
        decoder_channels=(256, 128, 64, 32, 16),
        kernel_size=3))
