# U-Net++ (Zhou et al., DLMIA 2018): nested dense skip pathways, as
# segmentation_models_pytorch 0.6.0 builds it (smp.UnetPlusPlus defaults, the
# thesis's library): main-path nodes of widths 256, 128, 64, 32 (deepest
# first) and a final 16-channel block at full resolution; the other nested
# nodes keep the encoder's width at their level (see UNetPlusPlusHead); nearest
# upsampling, two 3x3 conv-BN-ReLU per node, no attention, a 3x3 classifier.
_base_ = ['./segmentor.py']
model = dict(
    decode_head=dict(
        type='UNetPlusPlusHead',
        decoder_channels=(256, 128, 64, 32, 16),
        kernel_size=3))
