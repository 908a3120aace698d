# U-Net 1, the RU-Net paper's baseline (CAMUS "U-Net 1": 2M parameters).
# No normalisation, as in the paper; unet1-bn_camus.py adds batch norm.
_base_ = [
    '../_base_/models/light_unet.py', '../_base_/datasets/camus_2d.py',
    '../_base_/schedules/camus_20k.py', '../_base_/camus_runtime.py'
]
