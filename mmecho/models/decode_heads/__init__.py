# Copyright (c) mmecho contributors. All rights reserved.
from .linknet_head import LinkNetHead
from .manet_head import MANetHead
from .pan_head import PANHead
from .unet_head import UNetHead
from .unetplusplus_head import UNetPlusPlusHead

__all__ = [
    'UNetHead', 'UNetPlusPlusHead', 'MANetHead', 'LinkNetHead', 'PANHead'
]
