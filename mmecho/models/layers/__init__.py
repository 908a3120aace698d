# Copyright (c) mmecho contributors. All rights reserved.
from .panel_attention import BaseConv, Panel, PanelAttention
from .unet_decoder_block import UNetDecoderBlock

__all__ = ['BaseConv', 'Panel', 'PanelAttention', 'UNetDecoderBlock']
