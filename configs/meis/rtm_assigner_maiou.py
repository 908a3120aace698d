# Label-assignment study: dynamic soft label assignment on maIoU (soft label,
# IoU cost and dynamic k all use maIoU). Loss as in rtm_assigner.py.
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='mmdet.DynamicSoftLabelAssigner',
            soft_center_radius=3.0,
            topk=13,
            iou_weight=3.0,
            iou_calculator=dict(type='MaskAwareOverlaps2D'))))
