# Copyright (c) mmecho contributors. All rights reserved.
from .panel_attention import BaseConv, Panel, PanelAttention

__all__ = ['BaseConv', 'Panel', 'PanelAttention']
