# Whole CAMUS ED -> ES sequences for 2D+time models (paper 001's "3D dense"):
# training on registration pseudo-labels (tools/generate_pseudo_labels.py),
# validation / test against the half_sequence_gt files with the sequence
# metrics (ED/ES Dice/HD/MAD, EDV/ESV/EF, temporal smoothness, Eq. 2).
# Frames are resized to 256 x 256 and the sequence resampled to 16 frames;
# predictions go back to the original frames and resolution.
dataset_type = 'CAMUSSequenceDataset'
data_root = 'data/camus/'
seq_size = (256, 256)
seq_frames = 16
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_training.txt',
        labels='half_sequence_pseudo',
        label_root=None,
        size=seq_size,
        num_frames=seq_frames))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_validation.txt',
        labels='half_sequence_gt',
        size=seq_size,
        num_frames=seq_frames))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='database_split/subgroup_testing.txt',
        labels='half_sequence_gt',
        size=seq_size,
        num_frames=seq_frames))
val_evaluator = dict(type='TemporalSegMetric', plot_area_curves=False)
test_evaluator = dict(type='TemporalSegMetric')
