# Label-assignment study: SimOTA with maIoU in its IoU cost and dynamic k.
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='mmdet.SimOTAAssigner',
            center_radius=2.5,
            candidate_topk=10,
            iou_weight=3.0,
            cls_weight=1.0,
            iou_calculator=dict(type='MaskAwareOverlaps2D'))))
