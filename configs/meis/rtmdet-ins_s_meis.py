# Baseline: mmdet's real RTMDet-Ins-s (CSPNeXt-s, CSPNeXtPAFPN,
# RTMDetInsSepBNHead with dynamic kernels, QFL + GIoU + Dice) on MEIS with the
# same data, input size and schedule as the maYOLACT models. (The RAMEM
# repository's "RTMDet" row was a YOLACT head on CSPDarknet instead.)
_base_ = [
    '../_base_/datasets/meis_instance.py', '../_base_/schedules/meis_22k.py',
    '../_base_/meis_runtime.py'
]
model = dict(
    type='mmdet.RTMDet',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.68, 116.78, 103.94],
        std=[58.40, 57.12, 57.38],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        batch_augments=None),
    backbone=dict(
        type='mmdet.CSPNeXt',
        arch='P5',
        expand_ratio=0.5,
        deepen_factor=0.33,
        widen_factor=0.5,
        channel_attention=True,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='SiLU', inplace=True),
        init_cfg=None),
    neck=dict(
        type='mmdet.CSPNeXtPAFPN',
        in_channels=[128, 256, 512],
        out_channels=128,
        num_csp_blocks=1,
        expand_ratio=0.5,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='SiLU', inplace=True)),
    bbox_head=dict(
        type='mmdet.RTMDetInsSepBNHead',
        num_classes=4,
        in_channels=128,
        stacked_convs=2,
        share_conv=True,
        pred_kernel_size=1,
        feat_channels=128,
        act_cfg=dict(type='SiLU', inplace=True),
        norm_cfg=dict(type='BN', requires_grad=True),
        anchor_generator=dict(
            type='mmdet.MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
        bbox_coder=dict(type='mmdet.DistancePointBBoxCoder'),
        loss_cls=dict(
            type='mmdet.QualityFocalLoss',
            use_sigmoid=True,
            beta=2.0,
            loss_weight=1.0),
        loss_bbox=dict(type='mmdet.GIoULoss', loss_weight=2.0),
        loss_mask=dict(
            type='mmdet.DiceLoss', loss_weight=2.0, eps=5e-6, reduction='mean')),
    train_cfg=dict(
        assigner=dict(type='mmdet.DynamicSoftLabelAssigner', topk=13),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100,
        mask_thr_binary=0.5))
