# Copyright (c) mmecho contributors. All rights reserved.
from .differentiable_roi import DifferentiableROI, parametrised_sigmoid
from .panel_attention import BaseConv, Panel, PanelAttention
from .unet_decoder_block import UNetDecoderBlock

__all__ = [
    'BaseConv', 'Panel', 'PanelAttention', 'UNetDecoderBlock',
    'DifferentiableROI', 'parametrised_sigmoid'
]
