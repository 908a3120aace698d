# 2D dense on the CAMUS phantom: every frame, bidirectional pseudo-labels
# written to data/camus_phantom_pseudo/bidirectional (make demo-temporal).
_base_ = ['./unet2d_sparse_camus-phantom.py']
train_dataloader = dict(
    dataset=dict(
        instants='all',
        sequence_labels='half_sequence_pseudo',
        sequence_label_root='data/camus_phantom_pseudo/bidirectional'))
