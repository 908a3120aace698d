# Copyright (c) mmecho contributors. All rights reserved.
"""LinkNet decoder (Chaurasia & Culurciello, VCIP 2017)."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


class LinkNetDecoderBlock(nn.Module):
    """1x1 conv to C/4, 4x4 transposed conv with stride 2 (2x up), 1x1 conv
    to ``out_channels``; each followed by BN and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        mid = max(in_channels // 4, 1)
        self.reduce = ConvModule(
            in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(mid, mid, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True))
        self.expand = ConvModule(
            mid, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, Cin, h, w)`` -> ``(B, Cout, 2h, 2w)``."""
        return self.expand(self.up(self.reduce(x)))


@MODELS.register_module()
class LinkNetHead(BaseDecodeHead):
    """LinkNet decoder on any pyramid encoder: from the deepest level, each
    block upsamples 2x to the next level's channels and *adds* that level
    (LinkNet's residual link); a last block (no link) reaches full
    resolution with ``prefinal_channels``.

    Args:
        prefinal_channels (int): Channels of the last block (32 in smp).
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self, prefinal_channels: int = 32, **kwargs) -> None:
        super().__init__(
            channels=prefinal_channels,
            input_transform='multiple_select',
            **kwargs)
        chans = list(self.in_channels)[::-1] + [prefinal_channels]
        self.blocks = nn.ModuleList(
            LinkNetDecoderBlock(chans[i], chans[i + 1], self.norm_cfg,
                                self.act_cfg) for i in range(len(chans) - 1))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = feats[0]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i + 1 < len(feats):
                skip = feats[i + 1]
                if x.shape[-2:] != skip.shape[-2:]:
                    x = F.interpolate(
                        x,
                        size=skip.shape[-2:],
                        mode='bilinear',
                        align_corners=False)
                x = x + skip
        return self.cls_seg(x)
