# Copyright (c) mmecho contributors. All rights reserved.
"""PAN decoder (Li et al., BMVC 2018) as segmentation_models_pytorch builds
it (smp 0.6.0, ``PAN`` with default arguments: ``PANDecoder`` +
``SegmentationHead(kernel_size=3, upsampling=4)``): feature pyramid
attention (FPA) on the deepest level and global attention upsampling (GAU)
through the skips, 32 channels throughout.

smp's conv blocks (``ConvBnRelu``) keep a bias in front of their batch
norm (a parameter the norm makes redundant); mmecho has it too, so the
networks have the same parameters. Every resize is bilinear with
``align_corners=True``.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(
        x, size=tuple(size), mode='bilinear', align_corners=True)


class ConvBiasNormAct(nn.Sequential):
    """smp's PAN ``ConvBnRelu``: a conv **with bias**, a norm, then the
    activation (``act_cfg=None``: none)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 norm_cfg: dict, act_cfg: Optional[dict]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=True)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        if act_cfg is not None:
            self.act = build_activation_layer(act_cfg)


class FeaturePyramidAttention(nn.Module):
    """smp's ``FPABlock``. A U-shaped pyramid gives a one-channel pixel
    attention: ``down1`` = 2x2 max-pool + 7x7 conv (to 1 channel),
    ``down2`` = max-pool + 5x5, ``down3`` = max-pool + two 3x3 (each conv
    with bias + BN + ReLU); ``down3`` resized to ``(h // 4, w // 4)`` plus
    ``lat2`` (5x5) of ``down2``, resized to ``(h // 2, w // 2)``, plus
    ``lat1`` (7x7) of ``down1``, resized to ``(h, w)``; it multiplies
    ``mid`` (1x1 conv-BN-ReLU to ``out_channels``), and the global branch
    (average pool, 1x1 conv-BN-ReLU, broadcast) is added.

    Max-pooling rounds down (as smp), so the map must be at least 8x8
    (``ValueError`` otherwise, where smp fails inside ``max_pool2d``).

    Shapes: ``(B, Cin, h, w)`` -> ``(B, Cout, h, w)``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()

        def conv(cin, cout, k):
            return ConvBiasNormAct(cin, cout, k, norm_cfg, act_cfg)

        self.gap = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv(in_channels, out_channels, 1))
        self.mid = conv(in_channels, out_channels, 1)
        self.down1 = nn.Sequential(nn.MaxPool2d(2, 2), conv(in_channels, 1, 7))
        self.down2 = nn.Sequential(nn.MaxPool2d(2, 2), conv(1, 1, 5))
        self.down3 = nn.Sequential(
            nn.MaxPool2d(2, 2), conv(1, 1, 3), conv(1, 1, 3))
        self.lat2 = conv(1, 1, 5)
        self.lat1 = conv(1, 1, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if min(h, w) < 8:
            raise ValueError(
                f'PAN\'s feature pyramid attention pools its {h}x{w} input '
                'three times by 2 and needs at least 8x8 (smp: the same); '
                'use inputs of at least 128x128 at output stride 16')
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        a = self.lat2(d2) + _resize(d3, (h // 4, w // 4))
        a = self.lat1(d1) + _resize(a, (h // 2, w // 2))
        a = _resize(a, (h, w))
        # the global branch is 1x1: smp's bilinear resize broadcasts it
        return a * self.mid(x) + self.gap(x)


class GlobalAttentionUpsample(nn.Module):
    """smp's ``GAUBlock``: the deeper map's global context (average pool, 1x1
    conv with bias + BN, no ReLU, sigmoid) gates the shallow map after a 3x3
    conv-with-bias-BN-ReLU to ``channels``; the deeper map, resized
    bilinearly (``align_corners=True``) to the shallow map's size, is added.

    Shapes: ``low (B, Cl, H, W)``, ``high (B, C, h, w)`` -> ``(B, C, H, W)``.
    """

    def __init__(self, low_channels: int, channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        self.low = ConvBiasNormAct(low_channels, channels, 3, norm_cfg,
                                   act_cfg)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvBiasNormAct(channels, channels, 1, norm_cfg, None),
            nn.Sigmoid())

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return _resize(high, low.shape[-2:]) + self.low(low) * self.gate(high)


@MODELS.register_module()
class PANHead(BaseDecodeHead):
    """PAN decoder on any pyramid encoder (smp's ``PANDecoder``): FPA on the
    deepest selected level, then one GAU per shallower level, deepest first;
    a ``kernel_size`` conv (``conv_seg``, with bias; smp: 3x3) and a bilinear
    x``upsampling`` resize (``align_corners=True``; smp: 4) give the logits.
    With ``in_index=(1, 2, 3, 4)`` and the encoder at output stride 16 (as
    smp's default) the GAUs work at strides 16, 8 and 4 and the output has
    the input's size.

    Args:
        decoder_channels (int): Channels of the FPA and GAU outputs (smp:
            32).
        kernel_size (int): Classifier kernel (smp: 3).
        upsampling (int): Scale factor of the final resize (1: none, the
            segmentor then resizes with ``align_corners``).
        **kwargs: :class:`BaseDecodeHead` arguments.

    Shapes:
        inputs: levels ``(B, C_l, H / s_l, W / s_l)`` (the deepest at least
        8x8); output ``(B, num_classes, upsampling * H / s_0, ...)``.
    """

    def __init__(self,
                 decoder_channels: int = 32,
                 kernel_size: int = 3,
                 upsampling: int = 4,
                 **kwargs) -> None:
        super().__init__(
            channels=decoder_channels,
            input_transform='multiple_select',
            **kwargs)
        self.upsampling = int(upsampling)
        enc = list(self.in_channels)[::-1]
        self.fpa = FeaturePyramidAttention(enc[0], decoder_channels,
                                           self.norm_cfg, self.act_cfg)
        self.gaus = nn.ModuleList(
            GlobalAttentionUpsample(c, decoder_channels, self.norm_cfg,
                                    self.act_cfg) for c in enc[1:])
        # smp's SegmentationHead conv; replaces BaseDecodeHead's 1x1
        # conv_seg, so its init_cfg still applies
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = self.fpa(feats[0])
        for gau, low in zip(self.gaus, feats[1:]):
            x = gau(low, x)
        x = self.cls_seg(x)
        if self.upsampling > 1:
            x = F.interpolate(
                x,
                scale_factor=self.upsampling,
                mode='bilinear',
                align_corners=True)
        return x
