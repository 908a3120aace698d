# Copyright (c) mmecho contributors. All rights reserved.
from .classifier_head import ClassifierHead
from .linknet_head import LinkNetHead
from .manet_head import MANetHead
from .pan_head import PANHead
from .smp_deeplab_heads import SMPDeepLabV3Head, SMPDeepLabV3PlusHead
from .smp_fpn_head import SMPFPNHead
from .smp_psp_head import SMPPSPHead
from .unet_head import UNetHead
from .unetplusplus_head import UNetPlusPlusHead

__all__ = [
    'ClassifierHead', 'UNetHead', 'UNetPlusPlusHead', 'MANetHead', 'LinkNetHead', 'PANHead',
    'SMPPSPHead', 'SMPFPNHead',
    'SMPDeepLabV3Head', 'SMPDeepLabV3PlusHead'
]
