# Copyright (c) mmecho contributors. All rights reserved.
"""Panel attention (UPANet V2, RAMEM).

A feature map is pixel-unshuffled by 2; its four sub-images ("panels": even
rows/even cols, even/odd, odd/even, odd/odd) act as X, Q, K and V. With
global attention every position of the half-resolution map attends to every
other one (single head, no 1/sqrt(C) scaling, as in the reference), and X is
the residual of the attention.

Inference (no autograd, eval mode, not tracing) takes a faster path with
the same outputs (within float rounding, about 1e-7 relative):

- single-parameter PReLUs run in place on the tensor they activate, as
  ``nn.ReLU(inplace=True)`` does, and residual sums reuse a buffer the
  layer made itself; on CPU every fresh full-resolution map (80 channels at
  544x544 = 94 MB) otherwise costs a new allocation and its page faults;
- GroupNorm -> BatchNorm folds into one GroupNorm with the composed affine;
- a panel whose input has few channels (the stem: the 3-channel image)
  runs its transition 1x1 conv, pixel-unshuffle and depth-wise 3x3 conv
  (and, with stride 2 and no attention, its point-wise conv) as one 6x6
  stride-2 conv whose kernel is built from them on every call;
- large channels-last maps are unshuffled panel-major
  (:func:`space_to_depth`), with the depth-wise and point-wise weights
  permuted to match.

UPANet's transition blocks add strips (``mmecho/models/backbones/
upanet.py``). Training, gradient-enabled calls and ONNX tracing use the
plain layers. ``tests/test_models/test_upanet_inference.py`` checks both
paths against each other.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

#: Panels with at most this many input channels fuse transition,
#: pixel-unshuffle and depth-wise conv at inference (see ``Panel``).
FUSED_INPUT_MAX_CHANNELS = 4
#: At inference a channels-last map with at least this many values is
#: unshuffled by :func:`space_to_depth` (3-4x faster than pixel-unshuffle
#: on such maps); smaller ones, where permuting the depth-wise and
#: point-wise weights would cost more than it saves, by pixel-unshuffle.
SPACE_TO_DEPTH_MIN_NUMEL = 2**20


def fast_inference(module: nn.Module) -> bool:
    """True where the in-place and fused inference steps apply: eval mode,
    no autograd, not tracing, scripting or compiling (``torch.compile``,
    ``torch.export``)."""
    return not (module.training or torch.is_grad_enabled()
                or torch.jit.is_tracing() or torch.jit.is_scripting()
                or torch.compiler.is_compiling())


def prelu(x: Tensor, act: nn.PReLU, inplace: bool) -> Tensor:
    """PReLU; in place (as leaky ReLU with the same slope, identical
    values) for a single-parameter PReLU on CPU when ``inplace``.

    ``x`` must be a tensor the caller owns (just created by a layer).
    """
    if inplace and act.weight.numel() == 1 and x.device.type == 'cpu':
        return F.leaky_relu_(x, float(act.weight))
    return act(x)


class BaseConv(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> PReLU (one parameter, init 0.5).

    The BatchNorm may have been folded into the conv (then it is an
    ``nn.Identity``, as ``mmcv.cnn.fuse_conv_bn`` leaves it).
    """

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

    def forward(self, x: Tensor) -> Tensor:
        conv, norm, act = self
        return prelu(norm(conv(x)), act, fast_inference(self))

    def forward_rows(self, x: Tensor) -> Tensor:
        """Inference on rows that already carry their vertical context (and
        zero rows where the image ends): padding along W only.

        Shapes: (N, C_in, h, W) -> (N, C_out, (h - k) // s + 1, W_out).
        """
        conv, norm, act = self
        y = F.conv2d(x, conv.weight, conv.bias, conv.stride,
                     (0, conv.padding[1]))
        return prelu(norm(y), act, True)


class NormAct(nn.Sequential):
    """GroupNorm with one group (LayerNorm over C, H, W), BN, PReLU.

    Shapes: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.GroupNorm(1, channels), nn.BatchNorm2d(channels),
            nn.PReLU(init=0.5))

    def forward(self, x: Tensor) -> Tensor:
        gn, bn, act = self
        if not (fast_inference(self) and isinstance(bn, nn.BatchNorm2d)
                and bn.track_running_stats and gn.affine and bn.affine):
            return act(bn(gn(x)))
        # BN(GN(x)) = xhat * gw * s + (gb - mean) * s + bb, with
        # s = bw / sqrt(var + eps): one GroupNorm with that affine.
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        weight = gn.weight * scale
        bias = (gn.bias - bn.running_mean) * scale + bn.bias
        y = F.group_norm(x, gn.num_groups, weight, bias, gn.eps)
        return prelu(y, act, True)


def space_to_depth(z: Tensor) -> Tensor:
    """``F.pixel_unshuffle(z, 2)`` with panel-major channels.

    Output channel ``(2i + j) * C + c`` holds ``z[:, c, 2h + i, 2w + j]``
    (pixel-unshuffle puts it at ``4c + 2i + j``), as TensorFlow's
    ``space_to_depth`` orders them. For a channels-last ``z`` it moves
    whole C-channel pixels, several times faster than pixel-unshuffle's
    per-value gather; the result is channels-last.

    Shapes: (N, C, H, W), H and W even -> (N, 4C, H/2, W/2).
    """
    n, c, h, w = z.shape
    p = z.permute(0, 2, 3, 1).reshape(n, h // 2, 2, w // 2, 2, c)
    p = p.permute(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4 * c)
    return p.permute(0, 3, 1, 2)


def _panels_first(channels: int, device: torch.device) -> Tensor:
    """Index ``perm`` with ``perm[s * C + c] = 4c + s``: pixel-unshuffle
    order -> :func:`space_to_depth` order."""
    return torch.arange(4 * channels, device=device).reshape(
        channels, 4).t().reshape(-1)


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

    def forward(self, u: Tensor, panels_first: bool = False) -> Tensor:
        """``panels_first``: ``u``'s channels are ordered panel-major
        (``s * C + c``, as :func:`space_to_depth` gives) instead of
        ``4c + s`` (``F.pixel_unshuffle``)."""
        if panels_first:
            x, q, k, v = u.chunk(4, dim=1)
        else:
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
        self.fuse_input = in_channels <= FUSED_INPUT_MAX_CHANNELS
        if stride == 1:
            self.attention = None
            self.pw = nn.Conv2d(c4, c4, 1, bias=False)
            self.norm_act = NormAct(c4)
        else:
            self.attention = (
                PanelAttention(channels) if global_attention else None)
            in_pw = channels if global_attention else c4
            self.pw = nn.Conv2d(in_pw, channels, 1, bias=False)
            self.norm_act = NormAct(channels)
            self.shortcut = BaseConv(channels, channels, 2, 2, padding=0)

    def fused_input_kernel(self) -> Tensor:
        """The 6x6 stride-2 kernel equal to the transition 1x1 conv,
        pixel-unshuffle by 2 and the depth-wise 3x3 conv, and, for a
        stride-2 panel without attention, the point-wise conv after them
        (nothing non-linear lies between): (4C, C_in, 6, 6) or
        (C, C_in, 6, 6).

        Output channel ``4c + 2i + j`` (panel (i, j) of channel c) at
        (h, w) sums ``dw[4c+2i+j, dh, dw] * transition[c, k] *
        x[k, 2(h+dh-1)+i, 2(w+dw-1)+j]``: tap (2dh+i, 2dw+j) of a 6x6
        kernel with padding 2 (zero rows/cols of the unshuffled map are
        zero pixel pairs of ``x``, as the transition has no bias).
        """
        c, c_in = self.transition.weight.shape[:2]
        t = self.transition.weight.reshape(c, 1, 1, c_in, 1, 1)
        d = self.dw.weight.reshape(c, 2, 2, 1, 3, 3)
        taps = d * t  # (C, i, j, C_in, dh, dw)
        kernel = taps.new_zeros(c, 2, 2, c_in, 6, 6)
        for i in range(2):
            for j in range(2):
                kernel[:, i, j, :, i::2, j::2] = taps[:, i, j]
        kernel = kernel.reshape(4 * c, c_in * 36)
        if self._fuses_pw():
            kernel = self.pw.weight.flatten(1) @ kernel
        return kernel.reshape(-1, c_in, 6, 6)

    def _point_wise(self, u: Tensor, perm: Tensor = None) -> Tensor:
        """The attention (if any) and the point-wise conv on the unshuffled,
        depth-wise-convolved ``u``; ``perm``: ``u`` is panel-major
        (:func:`space_to_depth`)."""
        if self.attention is not None:
            return self.pw(self.attention(u, perm is not None))
        if perm is not None:
            return F.conv2d(u, self.pw.weight[:, perm], self.pw.bias)
        return self.pw(u)

    def _fuses_pw(self) -> bool:
        return self.stride == 2 and self.attention is None

    def _fused_input(self, x: Tensor, inference: bool) -> bool:
        h, w = x.shape[-2:]
        biases = (self.transition.bias, self.dw.bias, self.pw.bias)
        return (inference and self.fuse_input and h % 2 == 0
                and w % 2 == 0 and all(b is None for b in biases))

    def forward(self, x: Tensor, sc: Tensor) -> Tensor:
        inference = fast_inference(self)
        s = self.branch(x, inference)
        if self.stride == 1:
            # s is this layer's own buffer: add in place at inference.
            return s.add_(sc) if inference else sc + s
        return self.join(s, self.shortcut(sc), inference)

    def join(self, s: Tensor, sc: Tensor, inference: bool) -> Tensor:
        """Stride 2: the sum of the panel branch ``s`` (N, C, ceil(H/2),
        ceil(W/2)) and the shortcut ``sc`` (N, C, floor(H/2), floor(W/2)),
        written into ``sc`` at inference (it must be the caller's own)."""
        # Odd input sides: the panel path rounds up, the 2x2 conv down.
        s = s[..., :sc.shape[-2], :sc.shape[-1]]
        return sc.add_(s) if inference else sc + s

    def branch(self, x: Tensor, inference: bool) -> Tensor:
        """The panel path without the conv-branch input ``sc``.

        Shapes:
            x: (N, C_in, H, W).
            output: stride 1, (N, C, H, W); stride 2, (N, C, ceil(H/2),
            ceil(W/2)).
        """
        if self._fused_input(x, inference):
            size = tuple(x.shape[-2:])
            u = F.conv2d(x, self.fused_input_kernel(), stride=2, padding=2)
            p = u if self._fuses_pw() else self._point_wise(u)
        else:
            z, size = _even_size(self.transition(x))
            if (inference and self.dw.bias is None
                    and z.numel() >= SPACE_TO_DEPTH_MIN_NUMEL
                    and z.is_contiguous(memory_format=torch.channels_last)):
                # The same depth-wise products on space_to_depth's channel
                # order; the point-wise conv reads its inputs in that order.
                perm = _panels_first(z.shape[1], z.device)
                u = F.conv2d(
                    space_to_depth(z), self.dw.weight[perm], None, 1, 1, 1,
                    self.dw.groups)
                p = self._point_wise(u, perm)
            else:
                p = self._point_wise(self.dw(F.pixel_unshuffle(z, 2)))
        if self.stride == 2:
            return self.norm_act(p)
        s = F.pixel_shuffle(self.norm_act(p), 2)
        if s.shape[-2:] != size:
            s = F.interpolate(s, size=size, mode='nearest')
        return s
