# Copyright (c) mmecho contributors. All rights reserved.
from .echo_seg_visualization_hook import EchoSegVisualizationHook
from .non_finite_loss_hook import NonFiniteLossHook

__all__ = ['EchoSegVisualizationHook', 'NonFiniteLossHook']
