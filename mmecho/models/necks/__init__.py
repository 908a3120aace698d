# Copyright (c) mmecho contributors. All rights reserved.
from .ramem_fpn import RAMEMFPN

__all__ = ['RAMEMFPN']
