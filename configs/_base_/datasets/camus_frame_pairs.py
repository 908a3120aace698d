# CAMUS half-sequence frame pairs for unsupervised registration (paper 001):
# every intra-patient pair of the training split, frames resized to 512x512
# and scaled to [0, 1]; validation on the ED <-> ES pairs of the validation
# split (label Dice of the warped ED / ES masks).
dataset_type = 'CAMUSFramePairDataset'
data_root = 'data/camus/'
reg_size = (512, 512)
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_training.txt',
        exclude=None,  # paper 001 left out the 94 TED patients: a split file
        size=reg_size,
        pairs='all'))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_validation.txt',
        size=reg_size,
        pairs='ed_es'))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_testing.txt',
        size=reg_size,
        pairs='ed_es'))
val_evaluator = dict(type='RegistrationMetric')
test_evaluator = val_evaluator
