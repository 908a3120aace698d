# PSPNet (Zhao et al., 2017): mmseg's PSPHead (pool scales 1, 2, 3, 6) on the
# stride-8 level; as in smp the encoder stops there (levels 0-2 only).
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(out_indices=(0, 1, 2)),
    decode_head=dict(
        type='mmseg.PSPHead',
        in_index=2,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.2))
