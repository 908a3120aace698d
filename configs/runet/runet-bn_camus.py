# RU-Net with batch normalisation in both U-Nets 1 (not in the paper).
_base_ = ['./runet_camus.py']
model = dict(stages=[
    dict(s, backbone=dict(s['backbone'], norm_cfg=_base_.bn_norm_cfg))
    for s in _base_.model.stages
])
