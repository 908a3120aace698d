# SHG: three cascaded light U-Nets (1.5M each); the second and third see the
# image concatenated with the previous softmax; every output has the Dice
# loss; the last one is the prediction.
_base_ = ['./unet1_camus.py']
light = dict(
    type='LightUNet',
    encoder_channels=(32, 32, 64, 112, 112, 112),
    decoder_channels=(112, 112, 64, 32, 16),
    norm_cfg={{_base_.light_norm_cfg}})
model = dict(
    _delete_=True,
    type='StackedUNets',
    data_preprocessor={{_base_.data_preprocessor}},
    stages=[
        dict(
            backbone=dict(light, in_channels=3),
            decode_head={{_base_.light_unet_stage.decode_head}}),
        dict(
            backbone=dict(light, in_channels=3 + 4),
            decode_head={{_base_.light_unet_stage.decode_head}}),
        dict(
            backbone=dict(light, in_channels=3 + 4),
            decode_head={{_base_.light_unet_stage.decode_head}})
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
