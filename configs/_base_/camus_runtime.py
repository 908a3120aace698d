# Runtime of the CAMUS benchmark: mmseg's defaults, checkpoints every 2k
# iterations (two kept) plus the best one by LV-cavity Dice.
_base_ = ['./default_runtime_seg.py']
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False,
        interval=2000,
        max_keep_ckpts=2,
        save_best='echo/LV_Dice',
        rule='greater'))
