# CAMUS grid schedule: Adam lr 1e-3 with polynomial decay over 20k iterations
# (batch 8: 100 epochs of the 1600 official training frames), validation
# every 2k (checkpointing: configs/_base_/camus_runtime.py).
max_iters = 20000
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3,
                                        weight_decay=0.0))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
