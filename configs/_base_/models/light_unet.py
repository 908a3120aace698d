# The CAMUS "U-Net 1" (Leclerc et al., TMI 2019; ~2M parameters,
# multi-class Dice loss) as an EchoEncoderDecoder, and ``light_unet_stage``,
# the same network as a stage of RU-Net / SHG cascades. Images are scaled to
# [0, 1] (mean 0, std 255) so that a black pixel is 0.
# No normalisation, as U-Net 1 in the CAMUS paper (Table II: norm "none");
# He initialisation (LightUNet's default). The batch-normalised variants are
# separate configs (configs/runet/*-bn_camus.py, ``bn_norm_cfg``): trained
# from scratch with Adam 1e-3, the plain U-Net 1 collapsed to background-only
# predictions in 2 of 3 phantom folds (``make demo-runet`` before BN was
# added); see docs/runet.md.
light_norm_cfg = None
bn_norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='EchoSegDataPreProcessor',
    mean=[0.0, 0.0, 0.0],
    std=[255.0, 255.0, 255.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255,
    size=(256, 256))
dice_loss = dict(
    type='MultiClassDiceLoss', loss_weight=1.0, loss_name='loss_dice')
light_unet_stage = dict(
    backbone=dict(
        type='LightUNet',
        in_channels=3,
        encoder_channels=(32, 32, 64, 128, 128, 128),
        decoder_channels=(128, 128, 64, 32, 16),
        norm_cfg=light_norm_cfg),
    decode_head=dict(
        type='mmseg.FCNHead',
        in_channels=16,
        in_index=0,
        channels=16,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=4,
        norm_cfg=None,
        align_corners=False,
        loss_decode=dice_loss))
# The light U-Net 1 of SHG ("3 cascaded light U-Nets 1 (1.5M)", RU-Net paper
# section III-C), also RU-Net's "lighter U-Net" (section IV): U-Net 1 with
# 108 instead of 128 channels in the three deepest encoder levels and the two
# deepest decoder levels, 1.49 M parameters with a 3-channel input.
lighter_unet_stage = dict(
    backbone=dict(
        light_unet_stage['backbone'],
        encoder_channels=(32, 32, 64, 108, 108, 108),
        decoder_channels=(108, 108, 64, 32, 16)),
    decode_head=light_unet_stage['decode_head'])
model = dict(
    type='EchoEncoderDecoder',
    data_preprocessor=data_preprocessor,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
    **light_unet_stage)
