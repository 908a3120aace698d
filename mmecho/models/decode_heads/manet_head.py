# Copyright (c) mmecho contributors. All rights reserved.
"""MA-Net decoder (Fan et al., IEEE Access 2020) as
segmentation_models_pytorch builds it (smp 0.6.0, ``MAnet`` with default
arguments: ``MAnetDecoder`` + ``SegmentationHead``): a position-wise
attention block (PAB) on the deepest level, a multi-scale fusion attention
block (MFAB) at every skip, a U-Net block for the last 2x, a 3x3 classifier.

smp's PAB is not self-attention as the paper describes it and DANet's
position attention computes it (one softmax per query position, the result
transposed back to channels-first): smp normalises the ``hw x hw``
similarity map with **one** softmax over all of its entries (the whole map
sums to 1, a row on average to ``1 / hw``) and turns the ``(B, hw, C)``
product into ``(B, C, h, w)`` with a reshape of its memory, not a
transpose, so channel ``c`` at position ``p`` of the attention output is
entry ``c * hw + p`` of the row-major ``(hw, C)`` matrix (positions and
channels mixed). mmecho computes exactly that
(:class:`PositionAttentionBlock`).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.models.layers import UNetDecoderBlock
from mmecho.registry import MODELS


class PositionAttentionBlock(nn.Module):
    """smp's ``PABBlock``: four plain convs with bias (no norm, no
    activation), ``query`` and ``key`` 1x1 to ``key_channels`` (smp's
    ``center_conv`` and ``top_conv``), ``value`` and ``out`` 3x3 ``C -> C``
    (smp's ``bottom_conv`` and ``out_conv``).

    For one sample, with ``Q = query(x)``, ``K = key(x)`` (``k x hw``) and
    ``V = value(x)`` (``C x hw``), ``n = hw``::

        S = Q^T K                               (n x n)
        A = exp(S) / sum_{all i, j} exp(S_ij)   one softmax over the map
        Y = A V^T                               (n x C), row-major
        y = Y reshaped (no transpose) to (C, h, w)
        out = out_conv(x + y)

    Shapes: ``(B, C, h, w)`` -> ``(B, C, h, w)``.
    """

    def __init__(self, channels: int, key_channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = nn.Conv2d(channels, key_channels, 1)
        self.value = nn.Conv2d(channels, channels, 3, padding=1)
        self.out = nn.Conv2d(channels, channels, 3, padding=1)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The attention term ``y`` (before ``x + y`` and ``out``)."""
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, hw, k)
        k = self.key(x).flatten(2)  # (B, k, hw)
        v = self.value(x).flatten(2).transpose(1, 2)  # (B, hw, C)
        s = torch.matmul(q, k)  # (B, hw, hw)
        a = torch.softmax(s.reshape(b, -1), dim=1).view_as(s)
        return torch.matmul(a, v).reshape(b, self.channels, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x + self.attention(x))


def _squeeze_excite(channels: int, reduction: int) -> nn.Sequential:
    mid = max(channels // reduction, 1)
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, mid, 1),
        nn.ReLU(inplace=True), nn.Conv2d(mid, channels, 1), nn.Sigmoid())


class MultiScaleFusionAttentionBlock(nn.Module):
    """smp's ``MFABBlock``: the deeper input goes through a 3x3 conv-BN-ReLU
    (``C_in -> C_in``) and a 1x1 conv-BN-ReLU to the skip's channels and is
    upsampled 2x (nearest); squeeze-excitations (pool, 1x1 conv with bias to
    ``max(1, C_s // reduction)``, ReLU, 1x1 conv with bias, sigmoid) of it and
    of the skip are summed and gate it; it is concatenated with the skip
    and fused by two 3x3 conv-BN-ReLU.

    Shapes: ``x (B, Cin, h, w)``, ``skip (B, Cs, 2h, 2w)`` ->
    ``(B, Cout, 2h, 2w)``.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 reduction: int, norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__()
        self.high = nn.Sequential(
            ConvModule(
                in_channels,
                in_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                in_channels,
                skip_channels,
                1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg))
        self.se_high = _squeeze_excite(skip_channels, reduction)
        self.se_low = _squeeze_excite(skip_channels, reduction)
        self.fuse = nn.Sequential(
            ConvModule(
                2 * skip_channels,
                out_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                out_channels,
                out_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        # smp upsamples by 2; the skip's size is the same for inputs that
        # are multiples of 32 and also covers odd sizes
        x = F.interpolate(self.high(x), size=skip.shape[-2:], mode='nearest')
        gate = self.se_high(x) + self.se_low(skip)
        return self.fuse(torch.cat([x * gate, skip], dim=1))


@MODELS.register_module()
class MANetHead(BaseDecodeHead):
    """MA-Net decoder on any pyramid encoder (smp's ``MAnetDecoder``):
    :class:`PositionAttentionBlock` on the deepest level, one
    :class:`MultiScaleFusionAttentionBlock` per skip, U-Net blocks
    (:class:`UNetDecoderBlock`, no skip) beyond the shallowest level, and a
    ``kernel_size`` classifier (smp's ``SegmentationHead``: 3x3 with bias).

    Args:
        decoder_channels (Sequence[int]): Block output channels, deepest
            first (blocks beyond the shallowest level have no skip).
        pab_channels (int): Query/key channels of the position attention
            (smp: 64).
        reduction (int): Squeeze-excitation reduction of the MFABs (smp: 16).
        kernel_size (int): Classifier kernel (smp: 3).
        **kwargs: :class:`BaseDecodeHead` arguments.

    Shapes:
        inputs: levels ``(B, C_l, H / s_l, W / s_l)``; output
        ``(B, num_classes, H * 2**n / s_max, ...)`` with ``n`` blocks (the
        input's size for the grid's five levels and five blocks).
    """

    def __init__(self,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 pab_channels: int = 64,
                 reduction: int = 16,
                 kernel_size: int = 3,
                 **kwargs) -> None:
        super().__init__(
            channels=decoder_channels[-1],
            input_transform='multiple_select',
            **kwargs)
        enc = list(self.in_channels)[::-1]
        if len(decoder_channels) < len(enc) - 1:
            raise ValueError(f'{len(enc)} levels need at least {len(enc) - 1} '
                             f'decoder blocks, got {len(decoder_channels)}')
        self.pab = PositionAttentionBlock(enc[0], pab_channels)
        ins = [enc[0]] + list(decoder_channels[:-1])
        blocks = []
        for i, (cin, cout) in enumerate(zip(ins, decoder_channels)):
            if i + 1 < len(enc):
                blocks.append(
                    MultiScaleFusionAttentionBlock(cin, enc[i + 1], cout,
                                                   reduction, self.norm_cfg,
                                                   self.act_cfg))
            else:
                blocks.append(
                    UNetDecoderBlock(cin, 0, cout, self.norm_cfg,
                                     self.act_cfg))
        self.blocks = nn.ModuleList(blocks)
        # smp's SegmentationHead conv; replaces BaseDecodeHead's 1x1
        # conv_seg, so its init_cfg still applies
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = self.pab(feats[0])
        for i, block in enumerate(self.blocks):
            if i + 1 < len(feats):
                x = block(x, feats[i + 1])
            else:
                x = block(x)
        return self.cls_seg(x)
