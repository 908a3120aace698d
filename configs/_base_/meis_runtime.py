# Runtime of the MEIS instance models: mmdet's detection runtime with
# iteration-based logging and one checkpoint per MEIS epoch (169 iterations
# at batch 9), the best kept by coco/avg_mAP = (bbox mAP + segm mAP) / 2.
_base_ = './default_runtime_det.py'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=169,  # one MEIS epoch: 1521 // 9
        max_keep_ckpts=3,
        save_best='coco/avg_mAP',
        rule='greater'))
log_processor = dict(by_epoch=False)
