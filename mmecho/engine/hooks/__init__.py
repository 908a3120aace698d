# Copyright (c) mmecho contributors. All rights reserved.
from .echo_seg_visualization_hook import EchoSegVisualizationHook

__all__ = ['EchoSegVisualizationHook']
