# Copyright (c) mmecho contributors. All rights reserved.
"""VoxelMorph-style U-Net predicting a dense displacement field."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from mmecho.registration import integrate_velocity
from mmecho.registry import MODELS


@MODELS.register_module()
class VoxelMorphUNet(nn.Module):
    """VoxelMorph ``VxmDense`` in 2D (Balakrishnan et al. 2019).

    Encoder of stride-2 3x3 convolutions (``enc_channels``), decoder with
    skip connections (``dec_channels``, the last ones at full resolution),
    a 3x3 flow convolution initialised near zero, and optionally
    ``integration_steps`` of scaling and squaring (diffeomorphic, VoxelMorph
    default 7; 0 predicts the displacement directly).

    Shapes:
        ``fixed, moving (B, C, H, W)`` (``H``, ``W`` multiples of
        ``2 ** len(enc_channels)``) -> ``(B, 2, H, W)`` pixels.
    """

    def __init__(self,
                 in_channels: int = 1,
                 enc_channels: Sequence[int] = (16, 32, 32, 32),
                 dec_channels: Sequence[int] = (32, 32, 32, 32, 32, 16, 16),
                 integration_steps: int = 0) -> None:
        super().__init__()
        act = dict(type='LeakyReLU', negative_slope=0.2)
        n = len(enc_channels)
        if len(dec_channels) < n:
            raise ValueError('dec_channels needs at least one entry per '
                             'encoder level')
        self.enc = nn.ModuleList()
        ch, skips = 2 * in_channels, [2 * in_channels]
        for c in enc_channels:
            self.enc.append(
                ConvModule(ch, c, 3, stride=2, padding=1, act_cfg=act))
            ch = c
            skips.append(c)
        self.dec = nn.ModuleList()
        for i, c in enumerate(dec_channels[:n]):
            skip = skips[n - 1 - i]
            self.dec.append(
                ConvModule(ch + skip, c, 3, padding=1, act_cfg=act))
            ch = c
        self.extra = nn.Sequential(*[
            ConvModule(
                ch if i == 0 else dec_channels[n + i - 1],
                c,
                3,
                padding=1,
                act_cfg=act) for i, c in enumerate(dec_channels[n:])
        ])
        if len(dec_channels) > n:
            ch = dec_channels[-1]
        self.flow = nn.Conv2d(ch, 2, 3, padding=1)
        nn.init.normal_(self.flow.weight, std=1e-5)
        nn.init.zeros_(self.flow.bias)
        self.levels = n
        self.integration_steps = integration_steps

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        div = 2**self.levels
        if fixed.shape[2] % div or fixed.shape[3] % div:
            raise ValueError(f'image size {tuple(fixed.shape[2:])} must be a '
                             f'multiple of {div}')
        x = torch.cat([fixed, moving], 1)
        feats = [x]
        for layer in self.enc:
            x = layer(x)
            feats.append(x)
        x = feats.pop()
        for layer in self.dec:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = layer(torch.cat([x, feats.pop()], 1))
        x = self.extra(x)
        flow = self.flow(x)
        if self.integration_steps > 0:
            flow = integrate_velocity(flow, self.integration_steps)
        return flow
