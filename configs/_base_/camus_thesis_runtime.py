# Runtime of the thesis protocol: mmseg's defaults, epoch checkpoints (the
# last kept) plus the best one by validation soft Dice. The thesis saved the
# epoch of lowest validation loss (DiceBCE; its soft-Dice half is this
# metric) and printed no test code; tools/benchmark_grid.py tests the best.
_base_ = ['./default_runtime_seg.py']
default_hooks = dict(
    logger=dict(interval=25, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='thesis/soft_dice',
        rule='greater'))
log_processor = dict(by_epoch=True)
