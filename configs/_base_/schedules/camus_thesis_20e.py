# The grid thesis's schedule (paper 002, appendix): Adam lr 1e-3 without
# decay or weight decay, batch 4 (the dataset config), 20 epochs, validation
# after every epoch.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3,
                                        weight_decay=0.0))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
