# Copyright (c) mmecho contributors. All rights reserved.
from .efficientnet_encoder import EfficientNetEncoder
from .light_unet import LightUNet
from .mobilenet_v2_encoder import MobileNetV2Encoder
from .plain_conv_encoder import PlainConvEncoder
from .resnet_encoder import ResNetEncoder
from .resnet_panel import PanelBottleneck, ResNetPanel
from .staged_encoder import StagedEncoder
from .unet3d import UNet3D
from .upanet import UPABlock, UPANetV2

__all__ = [
    'PanelBottleneck', 'ResNetPanel', 'UPABlock', 'UPANetV2', 'StagedEncoder',
    'ResNetEncoder', 'EfficientNetEncoder', 'MobileNetV2Encoder',
    'PlainConvEncoder', 'LightUNet', 'UNet3D'
]
