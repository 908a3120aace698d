# Copyright (c) mmecho contributors. All rights reserved.
"""DeepLabV3 and DeepLabV3+ decoders laid out as segmentation_models_pytorch
(smp, the CAMUS thesis's library) builds them.

They differ from mmseg's :class:`ASPPHead` / :class:`DepthwiseSeparableASPPHead`
(and from the DeepLab papers' reference code) in a few places that change the
network, not only its parameter count:

* the five ASPP branches (1x1, three atrous 3x3, image pooling) are
  concatenated in that order and *projected by a 1x1 conv* (5C -> C, BN,
  ReLU, dropout 0.5), as in torchvision's ASPP; mmseg projects with a 3x3
  conv and no dropout;
* after the projection, DeepLabV3 adds a 3x3 conv-BN-ReLU and DeepLabV3+ a
  separable 3x3 conv-BN-ReLU (neither is in the papers);
* smp's separable convs have no normalisation or activation between the
  depthwise and the pointwise conv (mmcv's default puts BN+ReLU on both);
* DeepLabV3+ fuses the stride-4 level (1x1 to 48 channels) with the ASPP
  output upsampled bilinearly (``align_corners=True``) by *one* separable
  3x3 conv-BN-ReLU (the paper and mmseg use two 3x3 convs);
* the class logits (1x1 conv with bias) are upsampled bilinearly with
  ``align_corners=True`` inside the head, by the encoder's output stride
  (DeepLabV3, default 8) or by 4 (DeepLabV3+), like smp's
  ``SegmentationHead``.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


def separable_conv_module(in_channels: int,
                          out_channels: int,
                          dilation: int = 1,
                          norm_cfg: Optional[dict] = None,
                          act_cfg: Optional[dict] = dict(type='ReLU'),
                          conv_cfg: Optional[dict] = None) -> nn.Module:
    """smp's separable 3x3 block: depthwise 3x3 (no bias, nothing after
    it), pointwise 1x1 (no bias), then ``norm_cfg`` and ``act_cfg``."""
    return DepthwiseSeparableConvModule(
        in_channels,
        out_channels,
        3,
        padding=dilation,
        dilation=dilation,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        dw_norm_cfg=None,
        dw_act_cfg=None,
        conv_cfg=conv_cfg,
        bias=False)


class SMPASPP(nn.Module):
    """smp's ASPP: 1x1, three atrous 3x3 (plain or separable) and image
    pooling branches, each conv-BN-ReLU to ``channels``; their concatenation
    is projected by a 1x1 conv-BN-ReLU and dropout.

    Args:
        in_channels (int): Channels of the (deepest) encoder level.
        channels (int): Channels of each branch and of the output.
        dilations (Sequence[int]): The three atrous rates.
        separable (bool): Depthwise-separable atrous branches.
        dropout (float): Dropout probability after the projection.
        conv_cfg, norm_cfg, act_cfg (dict): mmcv layer configs.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        dilations: Sequence[int] = (12, 24, 36),
        separable: bool = False,
        dropout: float = 0.5,
        conv_cfg: Optional[dict] = None,
        norm_cfg: Optional[dict] = dict(type='BN'),
        act_cfg: Optional[dict] = dict(type='ReLU')
    ) -> None:
        super().__init__()
        if len(tuple(dilations)) != 3:
            raise ValueError(f'ASPP takes three atrous rates, got {dilations}')
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        branches = [ConvModule(in_channels, channels, 1, **layer)]
        for d in dilations:
            if separable:
                branches.append(
                    separable_conv_module(in_channels, channels, d, **layer))
            else:
                branches.append(
                    ConvModule(
                        in_channels,
                        channels,
                        3,
                        padding=d,
                        dilation=d,
                        **layer))
        self.branches = nn.ModuleList(branches)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, **layer))
        self.project = ConvModule(5 * channels, channels, 1, **layer)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, Cin, h, w)`` -> ``(B, channels, h, w)``."""
        outs = [branch(x) for branch in self.branches]
        # a 1x1 map broadcast to h x w (bilinear from one value is constant)
        outs.append(
            F.interpolate(
                self.image_pool(x),
                size=x.shape[2:],
                mode='bilinear',
                align_corners=False))
        return self.dropout(self.project(torch.cat(outs, dim=1)))


def _upsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    if factor == 1:
        return x
    size = (x.shape[2] * factor, x.shape[3] * factor)
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


@MODELS.register_module()
class SMPDeepLabV3Head(BaseDecodeHead):
    """DeepLabV3 decoder as smp builds it (Chen et al., 2017, arXiv
    1706.05587; smp ``DeepLabV3Decoder`` + ``SegmentationHead``).

    ASPP (:class:`SMPASPP`) on the deepest level, a 3x3 conv-BN-ReLU, the
    1x1 classifier, then bilinear (``align_corners=True``) upsampling of the
    logits by ``upsampling``.

    Args:
        dilations (Sequence[int]): ASPP atrous rates (smp: 12, 24, 36).
        aspp_separable (bool): Separable ASPP branches (smp: False).
        aspp_dropout (float): Dropout after the ASPP projection (smp: 0.5).
        upsampling (int): Logit upsampling factor; the encoder's output
            stride (smp: 8) so that the output has the input's size.
        **kwargs: :class:`BaseDecodeHead` arguments (``channels``: the ASPP
            width, smp's ``decoder_channels`` = 256; one input,
            ``in_index`` = the deepest level).

    Shapes:
        input ``(B, C, H / s, W / s)`` -> ``(B, num_classes, H * u / s,
        W * u / s)`` with ``u = upsampling``.
    """

    def __init__(self,
                 dilations: Sequence[int] = (12, 24, 36),
                 aspp_separable: bool = False,
                 aspp_dropout: float = 0.5,
                 upsampling: int = 8,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.input_transform is not None:
            raise ValueError('SMPDeepLabV3Head takes one input level')
        self.upsampling = int(upsampling)
        layer = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.aspp = SMPASPP(
            self.in_channels,
            self.channels,
            dilations,
            separable=aspp_separable,
            dropout=aspp_dropout,
            **layer)
        self.bottleneck = ConvModule(
            self.channels, self.channels, 3, padding=1, **layer)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        x = self._transform_inputs(inputs)
        x = self.bottleneck(self.aspp(x))
        return _upsample(self.cls_seg(x), self.upsampling)


@MODELS.register_module()
class SMPDeepLabV3PlusHead(BaseDecodeHead):
    """DeepLabV3+ decoder as smp builds it (Chen et al., ECCV 2018, arXiv
    1802.02611; smp ``DeepLabV3PlusDecoder`` + ``SegmentationHead``).

    Two inputs, the low-level (stride-4) features and the deepest level
    (at the encoder's output stride, 16 in smp's default). The deep level
    goes through ASPP (:class:`SMPASPP`, separable atrous branches by
    default) and a separable 3x3 conv-BN-ReLU, is upsampled bilinearly
    (``align_corners=True``) to the low-level size and concatenated with the
    low-level features reduced by a 1x1 conv-BN-ReLU to ``c1_channels``; one
    separable 3x3 conv-BN-ReLU fuses them, the 1x1 classifier follows and
    the logits are upsampled by ``upsampling`` (``align_corners=True``).

    Args:
        dilations (Sequence[int]): ASPP atrous rates (smp: 12, 24, 36).
        aspp_separable (bool): Separable ASPP branches (smp: True).
        aspp_dropout (float): Dropout after the ASPP projection (smp: 0.5).
        c1_channels (int): Low-level reduction width (smp and paper: 48).
        upsampling (int): Logit upsampling factor (smp: 4, the low-level
            stride).
        **kwargs: :class:`BaseDecodeHead` arguments: ``in_channels`` and
            ``in_index`` list the two inputs, low-level first;
            ``channels`` is smp's ``decoder_channels`` (256).
    """

    def __init__(self,
                 dilations: Sequence[int] = (12, 24, 36),
                 aspp_separable: bool = True,
                 aspp_dropout: float = 0.5,
                 c1_channels: int = 48,
                 upsampling: int = 4,
                 **kwargs) -> None:
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != 2:
            raise ValueError('SMPDeepLabV3PlusHead takes two inputs (low-level'
                             f', deepest), got in_channels={self.in_channels}')
        self.upsampling = int(upsampling)
        c1_in, deep_in = self.in_channels
        layer = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.aspp = SMPASPP(
            deep_in,
            self.channels,
            dilations,
            separable=aspp_separable,
            dropout=aspp_dropout,
            **layer)
        self.aspp_bottleneck = separable_conv_module(self.channels,
                                                     self.channels, **layer)
        self.c1_bottleneck = ConvModule(c1_in, c1_channels, 1, **layer)
        self.fuse = separable_conv_module(self.channels + c1_channels,
                                          self.channels, **layer)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        low, deep = self._transform_inputs(inputs)
        x = self.aspp_bottleneck(self.aspp(deep))
        x = F.interpolate(
            x, size=low.shape[2:], mode='bilinear', align_corners=True)
        x = self.fuse(torch.cat([x, self.c1_bottleneck(low)], dim=1))
        return _upsample(self.cls_seg(x), self.upsampling)
