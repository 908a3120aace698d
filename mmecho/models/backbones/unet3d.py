# Copyright (c) mmecho contributors. All rights reserved.
"""A 3D (2D + time) U-Net in the nnU-Net style."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from mmecho.registry import MODELS


def _block(cin, cout):
    cfg = dict(
        conv_cfg=dict(type='Conv3d'),
        norm_cfg=dict(type='IN3d', affine=True),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01))
    return nn.Sequential(
        ConvModule(cin, cout, 3, padding=1, **cfg),
        ConvModule(cout, cout, 3, padding=1, **cfg))


@MODELS.register_module()
class UNet3D(nn.Module):
    """Encoder-decoder over ``(B, C, T, H, W)`` with skip connections.

    Each level has two 3x3x3 convolutions (instance norm, leaky ReLU, as
    nnU-Net); levels are joined by max-pooling with ``pool_kernels`` (time
    is pooled less than space by default: (1, 2, 2) first, then (2, 2, 2))
    and, in the decoder, transposed convolutions of the same kernel.

    Args:
        in_channels (int): Input channels (1 for B-mode).
        channels (tuple): Channels per level.
        pool_kernels (tuple): ``len(channels) - 1`` kernels ``(t, h, w)``.

    Shapes:
        ``(B, in_channels, T, H, W)`` -> ``(B, channels[0], T, H, W)``; T, H
        and W must be divisible by the product of the pooling kernels.
    """

    def __init__(
        self,
        in_channels: int = 1,
        channels: Sequence[int] = (16, 32, 64, 128),
        pool_kernels: Sequence[Sequence[int]] = ((1, 2, 2), (2, 2, 2), (2, 2,
                                                                        2))
    ) -> None:
        super().__init__()
        if len(pool_kernels) != len(channels) - 1:
            raise ValueError('pool_kernels needs len(channels) - 1 entries')
        self.pool_kernels = [tuple(k) for k in pool_kernels]
        self.enc = nn.ModuleList()
        ch = in_channels
        for c in channels:
            self.enc.append(_block(ch, c))
            ch = c
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(channels) - 1, 0, -1):
            k = self.pool_kernels[i - 1]
            self.up.append(
                nn.ConvTranspose3d(channels[i], channels[i - 1], k, stride=k))
            self.dec.append(_block(2 * channels[i - 1], channels[i - 1]))
        self.out_channels = channels[0]

    def divisor(self):
        """The factor ``(t, h, w)`` the input sizes must be multiples of."""
        d = [1, 1, 1]
        for k in self.pool_kernels:
            d = [a * b for a, b in zip(d, k)]
        return tuple(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        div = self.divisor()
        if any(s % d for s, d in zip(x.shape[2:], div)):
            raise ValueError(f'input (T, H, W) = {tuple(x.shape[2:])} must be '
                             f'divisible by {div}')
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x)
            if i < len(self.pool_kernels):
                skips.append(x)
                x = F.max_pool3d(x, self.pool_kernels[i])
        for up, block in zip(self.up, self.dec):
            x = block(torch.cat([up(x), skips.pop()], 1))
        return x
