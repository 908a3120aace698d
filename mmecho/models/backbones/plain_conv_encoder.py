# Copyright (c) mmecho contributors. All rights reserved.
"""The plain encoder: the architectures' own default without a classification
backbone (the thesis rows "U-Net", "FPN"... with no encoder named)."""
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder


@MODELS.register_module()
class PlainConvEncoder(StagedEncoder):
    """The contracting path of the original U-Net: per level two 3x3
    conv-BN-ReLU, levels separated by 2x2 max-pooling, channels doubling from
    ``base_channels`` (64 -> 1024 as in Ronneberger et al.).

    Unlike the original U-Net, whose first level is at full resolution, the
    first level here starts with a stride-2 conv so that the five levels have
    strides 2..32 like every other encoder of the grid (the decoders then add
    the last 2x upsampling themselves).

    Args:
        in_channels (int): Image channels.
        base_channels (int): Channels of the first level.
        norm_cfg (dict): Normalisation layers.
        **kwargs: :class:`StagedEncoder` arguments.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        channels = [base_channels * 2**i for i in range(5)]
        levels = []
        prev = in_channels
        for i in range(self.num_levels):
            head = [nn.MaxPool2d(2)] if i > 0 else []
            levels.append(
                nn.Sequential(
                    *head,
                    ConvModule(
                        prev,
                        channels[i],
                        3,
                        stride=2 if i == 0 else 1,
                        padding=1,
                        norm_cfg=norm_cfg),
                    ConvModule(
                        channels[i],
                        channels[i],
                        3,
                        padding=1,
                        norm_cfg=norm_cfg)))
            prev = channels[i]
        self.body = nn.ModuleList(levels)
        # a checkpoint of all five levels loads into a shallower encoder
        self.unbuilt_prefixes = tuple(
            str(i) for i in range(self.num_levels, 5))
        self._set_stages(list(self.body), channels)
