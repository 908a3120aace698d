# The thesis's own U-Net (paper 002, appendix: ``UNet`` with ``SIZE = 32``),
# the grid's U-Net row without encoder: four levels of two 3x3 conv (no
# bias)-BN-ReLU with 32, 64, 128, 256 channels and 2x2 max-pooling between
# them, bilinear x2 upsampling (align_corners=True), concatenation
# [upsampled, skip] and two conv-BN-ReLU back to 128, 64, 32 channels, a 3x3
# classifier with bias. Every conv He-normal initialised (the appendix's
# ``nn.init.kaiming_normal_``, fan-in, gain sqrt(2)), biases 0.
_base_ = ['./segmentor.py']
thesis_kaiming = dict(
    type='Kaiming',
    layer='Conv2d',
    a=0,
    mode='fan_in',
    nonlinearity='leaky_relu',
    distribution='normal',
    bias=0)
model = dict(
    backbone=dict(
        type='LightUNet',
        in_channels=3,
        encoder_channels=(32, 64, 128, 256),
        decoder_channels=(128, 64, 32),
        norm_cfg={{_base_.norm_cfg}},
        upsample_mode='bilinear',
        align_corners=True,
        init_cfg=thesis_kaiming),
    decode_head=dict(
        type='ClassifierHead',
        in_channels=32,
        in_index=0,
        kernel_size=3,
        init_cfg=thesis_kaiming))
