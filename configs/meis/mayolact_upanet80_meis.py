# RAMEM (maYOLACT, UPANet80) on MEIS at 544x544 with the reference schedule.
# The six label-assignment configs of the study inherit from this file and
# change only model.train_cfg.assigner.
_base_ = [
    '../_base_/models/mayolact_upanet80.py',
    '../_base_/datasets/meis_instance.py', '../_base_/schedules/meis_22k.py',
    '../_base_/default_runtime_det.py'
]

epoch_iters = 169  # 1521 training images // batch 9
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=epoch_iters,
        max_keep_ckpts=3,
        save_best='coco/avg_mAP',  # (bbox mAP + segm mAP) / 2
        rule='greater'))
log_processor = dict(by_epoch=False)
