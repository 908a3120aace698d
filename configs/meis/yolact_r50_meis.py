# Baseline: mmdet's YOLACT-R50 (three aspect ratios per location, max-IoU
# assignment with neutrals in [0.4, 0.5)) on MEIS with RAMEM's data pipeline
# and schedule, trained from scratch like the others.
_base_ = [
    '../_base_/models/yolact_r50.py', '../_base_/datasets/meis_instance.py',
    '../_base_/schedules/meis_22k.py', '../_base_/meis_runtime.py'
]
model = dict(data_preprocessor=dict(pad_size_divisor=32))
