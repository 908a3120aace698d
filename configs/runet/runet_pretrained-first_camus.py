# RU-Net variant: the first U-Net starts from a trained U-Net 1 checkpoint
# (train configs/runet/unet1_camus.py first and point this at its weights).
_base_ = ['./runet_camus.py']
model = dict(pretrained_first='work_dirs/unet1_camus/best.pth')
