# Copyright (c) mmecho contributors. All rights reserved.
"""PAN decoder (Li et al., BMVC 2018): feature pyramid attention (FPA) on the
deepest level and global attention upsampling (GAU) through the skips."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(
        x, size=like.shape[-2:], mode='bilinear', align_corners=False)


class FeaturePyramidAttention(nn.Module):
    """FPA: a U-shaped pyramid of 7x7, 5x5 and 3x3 convs on 1/2, 1/4, 1/8 of
    the map gives a one-channel pixel attention that multiplies a 1x1
    projection; a global-pooling branch is added.

    Shapes: ``(B, Cin, h, w)`` -> ``(B, Cout, h, w)``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()

        def conv(cin, cout, k):
            return ConvModule(
                cin,
                cout,
                k,
                padding=k // 2,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        pool = dict(kernel_size=2, stride=2, ceil_mode=True)
        self.gap = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv(in_channels, out_channels, 1))
        self.mid = conv(in_channels, out_channels, 1)
        self.down1 = nn.Sequential(
            nn.MaxPool2d(**pool), conv(in_channels, 1, 7))
        self.down2 = nn.Sequential(nn.MaxPool2d(**pool), conv(1, 1, 5))
        self.down3 = nn.Sequential(
            nn.MaxPool2d(**pool), conv(1, 1, 3), conv(1, 1, 3))
        self.lat2 = conv(1, 1, 5)
        self.lat1 = conv(1, 1, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        a = self.lat2(d2) + _up(d3, d2)
        a = self.lat1(d1) + _up(a, d1)
        a = _up(a, x)
        return self.mid(x) * a + self.gap(x)  # gap broadcasts over h, w


class GlobalAttentionUpsample(nn.Module):
    """GAU: the deeper map's global context gates the 3x3-projected shallow
    map; the deeper map, upsampled, is added.

    Shapes: ``low (B, Cl, H, W)``, ``high (B, C, h, w)`` -> ``(B, C, H, W)``.
    """

    def __init__(self, low_channels: int, channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        self.low = ConvModule(
            low_channels,
            channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=None),
            nn.Sigmoid())

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return _up(high, low) + self.low(low) * self.gate(high)


@MODELS.register_module()
class PANHead(BaseDecodeHead):
    """PAN decoder on any pyramid encoder: FPA on the deepest selected level,
    then one GAU per shallower level; the output has the shallowest selected
    level's stride (4 with ``in_index=(1, 2, 3, 4)``, as in smp's PAN, which
    also dilates the encoder to output stride 16).

    Args:
        decoder_channels (int): Channels of the FPA and GAU outputs.
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self, decoder_channels: int = 32, **kwargs) -> None:
        super().__init__(
            channels=decoder_channels,
            input_transform='multiple_select',
            **kwargs)
        enc = list(self.in_channels)[::-1]
        self.fpa = FeaturePyramidAttention(enc[0], decoder_channels,
                                           self.norm_cfg, self.act_cfg)
        self.gaus = nn.ModuleList(
            GlobalAttentionUpsample(c, decoder_channels, self.norm_cfg,
                                    self.act_cfg) for c in enc[1:])

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = self.fpa(feats[0])
        for gau, low in zip(self.gaus, feats[1:]):
            x = gau(low, x)
        return self.cls_seg(x)
