# U-Net 1 with batch normalisation after every convolution (not in the paper:
# the CAMUS U-Net 1 has none). Added because, trained from scratch with Adam
# 1e-3, the plain network collapsed to background-only predictions in 2 of 3
# phantom folds; see docs/runet.md.
_base_ = ['./unet1_camus.py']
model = dict(backbone=dict(norm_cfg=dict(_base_.bn_norm_cfg, _delete_=True)))
