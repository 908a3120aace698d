# Baseline: maYOLACT-R50 (the RAMEM README's row): RAMEM's head, assigner
# (ATSS on maIoU), data and schedule with mmdet's ResNet-50 backbone.
_base_ = './mayolact_upanet80_meis.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(in_channels=[512, 1024, 2048]))
