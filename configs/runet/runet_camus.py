# RU-Net (Leclerc et al., IUS 2019; Table II): two U-Nets 1; the first one's
# foreground probability, binarised (sigmoid slope 100, shift 0.5), dilated
# by 11 px (a disc kernel) and re-binarised (shift 0.01), masks the image of
# the second.
# test_cfg.output: 2 = the refined segmentation (o2), 1 = the first (o1).
# No normalisation (U-Net 1 has none); runet-bn_camus.py adds batch norm.
_base_ = ['./unet1_camus.py']
model = dict(
    _delete_=True,
    type='RUNet',
    data_preprocessor={{_base_.data_preprocessor}},
    stages=[{{_base_.light_unet_stage}}, {{_base_.light_unet_stage}}],
    roi=dict(dilations=(11, ), shift=0.5),
    loss_weights=(1.0, 1.0),
    pretrained_first=None,
    train_cfg=dict(),
    test_cfg=dict(mode='whole', output=2))
