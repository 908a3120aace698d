# RAMEM's MEIS schedule (reference_methods.md section 6): SGD lr 1e-3,
# momentum 0.9, weight decay 5e-4 on every parameter, 10-iteration linear
# warm-up from 1.125e-4, x0.1 at 13k, 22k iterations at batch 9. Evaluation
# once per epoch (1521 // 9 = 169 iterations), best checkpoint by Avg-mAP.
max_iters = 22000
epoch_iters = 169
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=epoch_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.1125, by_epoch=False, begin=0, end=10),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[13000],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4))
