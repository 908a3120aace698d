# Copyright (c) mmecho contributors. All rights reserved.
"""MA-Net decoder (Fan et al., IEEE Access 2020): position attention on the
deepest level, multi-scale fusion attention at every skip."""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.models.layers import UNetDecoderBlock
from mmecho.registry import MODELS


class PositionAttentionBlock(nn.Module):
    """PAB: self-attention over positions (query/key projected to
    ``key_channels``), added to the input, then a 3x3 conv.

    Shapes: ``(B, C, h, w)`` -> ``(B, C, h, w)``.
    """

    def __init__(self, channels: int, key_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = nn.Conv2d(channels, key_channels, 1)
        self.value = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.out = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, hw, k)
        k = self.key(x).flatten(2)  # (B, k, hw)
        v = self.value(x).flatten(2)  # (B, C, hw)
        attn = torch.softmax(q @ k, dim=-1)  # (B, hw, hw), rows sum to 1
        y = (v @ attn.transpose(1, 2)).view(b, c, h, w)
        return self.out(x + y)


def _squeeze_excite(channels: int, reduction: int) -> nn.Sequential:
    mid = max(channels // reduction, 1)
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, mid, 1),
        nn.ReLU(inplace=True), nn.Conv2d(mid, channels, 1), nn.Sigmoid())


class MultiScaleFusionAttentionBlock(nn.Module):
    """MFAB: the deeper input is convolved to the skip's channels and
    upsampled; channel attentions of both (squeeze-excitation) are summed and
    gate the deeper input, which is concatenated with the skip and fused by
    two 3x3 conv-BN-ReLU.

    Shapes: ``x (B, Cin, h, w)``, ``skip (B, Cs, H, W)`` ->
    ``(B, Cout, H, W)``.
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
        x = F.interpolate(self.high(x), size=skip.shape[-2:], mode='nearest')
        gate = self.se_high(x) + self.se_low(skip)
        return self.fuse(torch.cat([x * gate, skip], dim=1))


@MODELS.register_module()
class MANetHead(BaseDecodeHead):
    """MA-Net decoder on any pyramid encoder.

    Args:
        decoder_channels (Sequence[int]): Block output channels, deepest
            first (blocks beyond the shallowest level have no skip).
        pab_channels (int): Query/key channels of the position attention.
        reduction (int): Squeeze-excitation reduction of the MFABs.
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 pab_channels: int = 64,
                 reduction: int = 16,
                 **kwargs) -> None:
        super().__init__(
            channels=decoder_channels[-1],
            input_transform='multiple_select',
            **kwargs)
        enc = list(self.in_channels)[::-1]
        if len(decoder_channels) < len(enc) - 1:
            raise ValueError(f'{len(enc)} levels need at least {len(enc) - 1} '
                             f'decoder blocks, got {len(decoder_channels)}')
        self.pab = PositionAttentionBlock(enc[0], pab_channels, self.norm_cfg,
                                          self.act_cfg)
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

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = self.pab(feats[0])
        for i, block in enumerate(self.blocks):
            if i + 1 < len(feats):
                x = block(x, feats[i + 1])
            else:
                x = block(x)
        return self.cls_seg(x)
