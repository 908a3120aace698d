# Label-assignment study: ATSS on mask-aware IoU (RAMEM's assigner).
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='mmdet.ATSSAssigner',
            topk=9,
            iou_calculator=dict(type='MaskAwareOverlaps2D'))))
