# Copyright (c) mmecho contributors. All rights reserved.
"""Panel attention (UPANet V2, RAMEM).

A feature map is pixel-unshuffled by 2; its four sub-images ("panels": even
rows/even cols, even/odd, odd/even, odd/odd) act as X, Q, K and V. With
global attention every position of the half-resolution map attends to every
other one (single head, no 1/sqrt(C) scaling, as in the reference), and X is
the residual of the attention.
"""
from typing import Tuple

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class BaseConv(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> PReLU (one parameter, init 0.5)."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 padding: int = None) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias=False), nn.BatchNorm2d(out_channels), nn.PReLU(init=0.5))


def _norm_act(channels: int) -> nn.Sequential:
    """GroupNorm with one group (LayerNorm over C, H, W), BN, PReLU."""
    return nn.Sequential(
        nn.GroupNorm(1, channels), nn.BatchNorm2d(channels),
        nn.PReLU(init=0.5))


def _even_size(x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
    """Nearest-resize ``x`` (N, C, H, W) so that H and W are even."""
    h, w = x.shape[-2:]
    if h % 2 == 0 and w % 2 == 0:
        return x, (h, w)
    return F.interpolate(
        x, size=(h + h % 2, w + w % 2), mode='nearest'), (h, w)


class PanelAttention(nn.Module):
    """Global attention between the panels of a pixel-unshuffled map.

    Args:
        channels (int): C, channels of each panel.

    Shapes:
        input: (N, 4C, h, w), a depth-wise-convolved pixel-unshuffled map.
        output: (N, C, h, w), ``X + softmax(q^T k) v``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.q = nn.Conv2d(channels, channels, 1, bias=False)
        self.k = nn.Conv2d(channels, channels, 1, bias=False)
        self.v = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, u: Tensor) -> Tensor:
        x, q, k, v = u[:, 0::4], u[:, 1::4], u[:, 2::4], u[:, 3::4]
        n, c, h, w = x.shape
        # (N, 1, h*w, C) token layout for the fused kernel; one head.
        q = self.q(q).flatten(2).transpose(1, 2).unsqueeze(1)
        k = self.k(k).flatten(2).transpose(1, 2).unsqueeze(1)
        v = self.v(v).flatten(2).transpose(1, 2).unsqueeze(1)
        y = F.scaled_dot_product_attention(q, k, v, scale=1.0)
        y = y.squeeze(1).transpose(1, 2).reshape(n, c, h, w)
        return x + y


class Panel(nn.Module):
    """The panel branch of a UPA block (``Panel`` in the reference).

    Args:
        in_channels (int): C_in, channels of the block input ``x``.
        channels (int): C, channels of the conv branch ``sc`` and the output.
        stride (int): 1 (dense block, resolution kept) or 2 (transition).
        global_attention (bool): Panel attention (stride 2 only).

    Shapes:
        x: (N, C_in, H, W); sc: (N, C, H, W).
        output: (N, C, H, W) for stride 1, (N, C, H/2, W/2) for stride 2.
        Any H, W work; odd sides are nearest-resized to even ones inside
        the panel path (and back for stride 1).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 stride: int = 1,
                 global_attention: bool = False) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'Panel stride must be 1 or 2, got {stride}')
        if global_attention and stride != 2:
            raise ValueError('panel attention is only defined for stride 2')
        self.stride = stride
        self.global_attention = global_attention
        self.transition = nn.Conv2d(in_channels, channels, 1, bias=False)
        c4 = 4 * channels
        self.dw = nn.Conv2d(c4, c4, 3, padding=1, groups=c4, bias=False)
        if stride == 1:
            self.pw = nn.Conv2d(c4, c4, 1, bias=False)
            self.norm_act = _norm_act(c4)
        else:
            self.attention = (
                PanelAttention(channels) if global_attention else None)
            in_pw = channels if global_attention else c4
            self.pw = nn.Conv2d(in_pw, channels, 1, bias=False)
            self.norm_act = _norm_act(channels)
            self.shortcut = BaseConv(channels, channels, 2, 2, padding=0)

    def forward(self, x: Tensor, sc: Tensor) -> Tensor:
        z, size = _even_size(self.transition(x))
        u = self.dw(F.pixel_unshuffle(z, 2))
        if self.stride == 1:
            s = F.pixel_shuffle(self.norm_act(self.pw(u)), 2)
            if s.shape[-2:] != size:
                s = F.interpolate(s, size=size, mode='nearest')
            return sc + s
        if self.attention is not None:
            u = self.attention(u)
        s = self.norm_act(self.pw(u))
        sc = self.shortcut(sc)
        # Odd input sides: the panel path rounds up, the 2x2 conv down.
        return sc + s[..., :sc.shape[-2], :sc.shape[-1]]
