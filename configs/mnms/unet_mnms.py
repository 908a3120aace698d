# Paper 003's 2D U-Net baseline on M&Ms: 32 base channels, 3x3 convolutions
# with BatchNorm and ReLU, 2x2 max-pooling, a final 1x1 convolution to four
# classes (background, LV, MYO, RV); cross-entropy; Adam lr 1e-3 with a
# plateau scheduler on the validation Dice (x0.5 after 2 epochs without
# gain), validation every epoch as in the paper, 50 epochs. Trained on the ED
# and ES slices of vendors A and B.
_base_ = [
    '../_base_/datasets/mnms_slices.py', '../_base_/default_runtime_seg.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='mmseg.EncoderDecoder',
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[127.5],
        std=[127.5],
        bgr_to_rgb=False,
        pad_val=0,
        seg_pad_val=255,
        size=(256, 256)),
    backbone=dict(
        type='mmseg.UNet',
        in_channels=1,
        base_channels=32,
        num_stages=5,
        strides=(1, 1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2, 2),
        dec_num_convs=(2, 2, 2, 2),
        downsamples=(True, True, True, True),
        enc_dilations=(1, 1, 1, 1, 1),
        dec_dilations=(1, 1, 1, 1),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='mmseg.InterpConv'),
        norm_eval=False),
    decode_head=dict(
        type='mmseg.FCNHead',
        in_channels=32,
        in_index=4,
        channels=32,
        num_convs=0,
        concat_input=False,
        kernel_size=1,
        dropout_ratio=0.0,
        num_classes=4,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='mmseg.CrossEntropyLoss', use_sigmoid=False,
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
max_epochs = 50
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3,
                                        weight_decay=0.0))
# mmengine's ReduceOnPlateauLR steps on the validation metrics once per epoch
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='mnms/Total',
        rule='greater',
        factor=0.5,
        patience=2,
        by_epoch=True)
]
train_dataloader = dict(sampler=dict(type='DefaultSampler', shuffle=True))
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_scope = 'mmecho'
default_hooks = dict(
    logger=dict(interval=50, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='mnms/Total',
        rule='greater'))
log_processor = dict(by_epoch=True)
