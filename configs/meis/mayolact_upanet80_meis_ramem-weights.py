# RAMEM's released UPANet80 maYOLACT weights (best_47.145_upanet80_meis_21295
# .pth, converted by tools/model_converters/ramem2mmecho.py) in mmecho.
# Changes only what those weights need to compute what RAMEM's code computes
# (docs/amem.md, "Using RAMEM's released weights"):
# - the neck: RAMEM's FPN has a ReLU after each output conv (P3-P7), none
#   after the laterals; mmdet's FPN here has none (RAMEMFPN, same tensors);
# - the priors: RAMEM centres the anchors of level l at (i + 0.5) * 544 /
#   ceil(544 / stride_l), i.e. P6 (9x9) and P7 (5x5) every 544/9 and 544/5 px
#   instead of every 64 and 128 px (up to 30 and 86 px apart at the far edge).
#   Float strides give exactly RAMEM's centres at the 544x544 test input (the
#   test pipeline always resizes and pads to 544x544).
# The input normalisation is already RAMEM's: BGR - (103.94, 116.78, 123.68),
# / (57.38, 57.12, 58.40), then RGB = mmdet's bgr_to_rgb with the RGB-ordered
# mean/std of the base config. Post-processing stays mmdet's (differences:
# docs/amem.md).
_base_ = './mayolact_upanet80_meis.py'

ramem_strides = [8, 16, 32, 544 / 9, 544 / 5]
model = dict(
    neck=dict(type='RAMEMFPN', act_cfg=dict(type='ReLU')),
    bbox_head=dict(
        anchor_generator=dict(
            strides=ramem_strides,
            centers=[(s / 2, s / 2) for s in ramem_strides])))
