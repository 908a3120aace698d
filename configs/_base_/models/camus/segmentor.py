# Shared by the nine CAMUS-benchmark architectures: an EchoEncoderDecoder
# whose backbone (the encoder) comes from configs/_base_/encoders/ through
# the leaf config, 4 classes (background, LV cavity, myocardium, LA), CE +
# Dice loss, and the CAMUS post-processing (largest connected component and
# hole filling per class) at test time.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EchoEncoderDecoder',
    data_preprocessor=dict(
        type='EchoSegDataPreProcessor',
        mean=[60.0, 60.0, 60.0],
        std=[50.0, 50.0, 50.0],
        bgr_to_rgb=False,
        pad_val=0,
        seg_pad_val=255,
        size=(256, 256),
        augment=None),  # 'thesis': shift 20 %, zoom 0.5-2 (see README)
    backbone=dict(),
    decode_head=dict(
        num_classes=4,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=False,
                avg_non_ignore=True,
                loss_weight=1.0),
            dict(
                type='MultiClassDiceLoss',
                loss_weight=1.0,
                loss_name='loss_dice')
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', largest_component=True, fill_holes=True))
