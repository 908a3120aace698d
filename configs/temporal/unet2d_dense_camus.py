# Paper 001's "2D dense" baseline: the same U-Net trained on every frame,
# labelled by registration pseudo-labels (tools/generate_pseudo_labels.py;
# set sequence_label_root when they were written to a separate --out root).
_base_ = ['./unet2d_sparse_camus.py']
train_dataloader = dict(
    dataset=dict(
        instants='all',
        sequence_labels='half_sequence_pseudo',
        sequence_label_root=None))
