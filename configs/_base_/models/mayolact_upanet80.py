# RAMEM: maYOLACT with a UPANet80 (panel attention) backbone, 4 MEIS classes.
# mmdet's YOLACT detector, FPN and protonet; mmecho's UPANetV2 and
# MaYOLACTHead (1 square anchor per location, 1x1 coefficient conv).
# Trained from scratch, as the reference (no UPANet ImageNet weights exist).
model = dict(
    type='mmdet.YOLACT',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.68, 116.78, 103.94],
        std=[58.40, 57.12, 57.38],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True),
    backbone=dict(type='UPANetV2', width=80, out_indices=(1, 2, 3)),
    neck=dict(
        type='mmdet.FPN',
        in_channels=[320, 640, 1280],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_output',
        relu_before_extra_convs=True,
        num_outs=5,
        upsample_cfg=dict(mode='bilinear')),
    bbox_head=dict(
        type='MaYOLACTHead',
        num_classes=4,
        in_channels=256,
        feat_channels=256,
        coeff_kernel_size=1,
        anchor_generator=dict(
            type='mmdet.AnchorGenerator',
            base_sizes=[32, 64, 128, 256, 512],  # px at 544
            scales=[1.0],
            ratios=[1.0],
            strides=[8, 16, 32, 64, 128],
            # cell centres (mmdet's center_offset is relative to base_size)
            centers=[(s / 2, s / 2) for s in [8, 16, 32, 64, 128]]),
        bbox_coder=dict(
            type='mmdet.DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(
            type='mmdet.CrossEntropyLoss',
            use_sigmoid=False,
            reduction='none',
            loss_weight=1.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0, loss_weight=1.5),
        num_head_convs=1,
        num_protos=32,
        use_ohem=True,
        init_cfg=None),  # PyTorch default init, as the reference
    mask_head=dict(
        type='PaddingAwareYOLACTProtonet',  # mmdet's, padding fixed
        in_channels=256,
        num_protos=32,
        num_classes=4,
        max_masks_to_train=100,
        loss_mask_weight=6.125,
        with_seg_branch=True,
        loss_segm=dict(
            type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        init_cfg=None),
    train_cfg=dict(
        # RAMEM's own assigner: ATSS (k=9 per level) driven by maIoU.
        assigner=dict(
            type='mmdet.ATSSAssigner',
            topk=9,
            iou_calculator=dict(type='MaskAwareOverlaps2D')),
        sampler=dict(type='mmdet.PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        mask_thr=0.5,
        iou_thr=0.5,
        top_k=200,
        max_per_img=100,
        mask_thr_binary=0.5))
