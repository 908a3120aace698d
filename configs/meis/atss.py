# Label-assignment study: mmdet's ATSS (k=9 per level) on box IoU.
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='mmdet.ATSSAssigner',
            topk=9,
            iou_calculator=dict(type='mmdet.BboxOverlaps2D'))))
