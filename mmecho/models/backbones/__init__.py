# Copyright (c) mmecho contributors. All rights reserved.
from .resnet_panel import PanelBottleneck, ResNetPanel
from .upanet import UPABlock, UPANetV2

__all__ = ['PanelBottleneck', 'ResNetPanel', 'UPABlock', 'UPANetV2']
