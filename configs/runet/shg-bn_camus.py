# SHG with batch normalisation in its three light U-Nets (not in the paper).
_base_ = ['./shg_camus.py']
model = dict(stages=[
    dict(s, backbone=dict(s['backbone'], norm_cfg=_base_.bn_norm_cfg))
    for s in _base_.model.stages
])
