# Copyright (c) mmecho contributors. All rights reserved.
from .mmode_overlay import draw_mmode_measurement

__all__ = ['draw_mmode_measurement']
