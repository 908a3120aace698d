# Label-assignment study: RTMDet's dynamic soft label assigner (mmdet
# DynamicSoftLabelAssigner, RTMDet defaults) on box IoU; the headline config.
# Soft labels: the assigner's cost uses the IoU-weighted soft label, but the
# classification loss stays one-hot softmax CE with OHEM 3:1, as in the
# reference (no QFL/VFL); the soft target is not used as a loss target.
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='mmdet.DynamicSoftLabelAssigner',
            soft_center_radius=3.0,
            topk=13,
            iou_weight=3.0,
            iou_calculator=dict(type='mmdet.BboxOverlaps2D'))))
