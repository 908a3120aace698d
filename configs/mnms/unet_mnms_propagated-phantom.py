# The proposed arm on the M&Ms phantom: ED/ES slices plus the propagated
# frames (tools/mnms_benchmark.py points pseudo_label_root at its output).
_base_ = ['./unet_mnms-phantom.py']
train_dataloader = dict(
    dataset=dict(pseudo_labels=True, pseudo_label_root=None))
