# RAMEM (maYOLACT, UPANet80) on MEIS at 544x544 with the reference schedule.
# Its assigner (ATSS, k=9 per level, on maIoU: RAMEM's own) makes this file
# also the ATSS x maIoU cell of the label-assignment study; the five other
# cells (simota.py, simota_maiou.py, atss.py, rtm_assigner.py,
# rtm_assigner_maiou.py) inherit from it and change only
# model.train_cfg.assigner.
_base_ = [
    '../_base_/models/mayolact_upanet80.py',
    '../_base_/datasets/meis_instance.py', '../_base_/schedules/meis_22k.py',
    '../_base_/meis_runtime.py'
]
