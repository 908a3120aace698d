# Paper 003's proposed arm: the same U-Net trained on the ED and ES slices
# plus the frames between ED and ES labelled by registration (label
# propagation, tools/generate_pseudo_labels.py --dataset mnms; set
# pseudo_label_root when the files were written to a separate --out root).
_base_ = ['./unet_mnms.py']
train_dataloader = dict(
    dataset=dict(pseudo_labels=True, pseudo_label_root=None))
