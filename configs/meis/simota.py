# Label-assignment study: mmdet's SimOTA (YOLOX defaults) on box IoU between
# this step's decoded boxes and the GT. Priors are the anchor centres with the
# level stride; classification stays one-hot softmax CE with OHEM.
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
            iou_calculator=dict(type='mmdet.BboxOverlaps2D'))))
