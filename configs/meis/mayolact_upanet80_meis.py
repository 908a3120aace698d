# RAMEM (maYOLACT, UPANet80) on MEIS at 544x544 with the reference schedule.
# The six label-assignment configs of the study inherit from this file and
# change only model.train_cfg.assigner.
_base_ = [
    '../_base_/models/mayolact_upanet80.py',
    '../_base_/datasets/meis_instance.py', '../_base_/schedules/meis_22k.py',
    '../_base_/meis_runtime.py'
]
