# Copyright (c) mmecho contributors. All rights reserved.
"""UPANet V2, the panel-attention backbone of RAMEM."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmecho.registry import MODELS
from ..layers.panel_attention import BaseConv, Panel, fast_inference

#: At CPU inference a transition block whose conv-branch map would hold
#: more than ``STRIP_ABOVE_BYTES`` (the stem at 544x544: 94 MB) runs its
#: conv branch and the panel's 2x2 shortcut in horizontal strips whose
#: largest map holds about ``STRIP_BYTES``: fresh large maps cost page
#: faults on CPU. Smaller maps (stage 1 at 544: 24 MB) gained nothing.
#: GPUs (caching allocator) run the whole map.
STRIP_ABOVE_BYTES = 32 * 2**20
STRIP_BYTES = 16 * 2**20


def pad_rows(x: Tensor, top: bool, bottom: bool) -> Tensor:
    """One zero row above and/or below ``x`` (N, C, h, W)."""
    return F.pad(x, (0, 0, int(top), int(bottom))) if top or bottom else x


class UPABlock(nn.Module):
    """One UPA block.

    Transition (``stride=2``): a conv branch of two 3x3 BaseConvs
    (C_in -> C -> C) at the input resolution, then a stride-2 Panel joins it
    with the input; output (N, C, H/2, W/2).

    Dense (``stride=1``, growth g): conv branch C_in -> 2g -> g, stride-1
    Panel, output ``concat(x, sc + panel)``: (N, C_in + g, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 stride: int,
                 global_attention: bool = False) -> None:
        super().__init__()
        self.dense = stride == 1
        mid = 2 * channels if self.dense else channels
        self.conv = nn.Sequential(
            BaseConv(in_channels, mid, 3), BaseConv(mid, channels, 3))
        self.panel = Panel(in_channels, channels, stride, global_attention)

    def forward(self, x: Tensor) -> Tensor:
        if (not self.dense and x.device.type == 'cpu'
                and fast_inference(self)):
            rows = self._strip_rows(x)
            if rows < x.shape[-2] // 2:
                sc = self._shortcut_in_strips(x, rows)
                return self.panel.join(self.panel.branch(x, True), sc, True)
        y = self.panel(x, self.conv(x))
        return torch.cat([x, y], dim=1) if self.dense else y

    def _strip_rows(self, x: Tensor) -> int:
        """Output rows per strip: the conv branch's map (N, C, 2 * rows,
        W) holds about ``STRIP_BYTES``; all rows (no strips) when the whole
        map holds at most ``STRIP_ABOVE_BYTES``."""
        n, _, h, w = x.shape
        row = 2 * n * w * self.conv[0][0].out_channels * x.element_size()
        if row * (h // 2) <= STRIP_ABOVE_BYTES:
            return h // 2
        return max(1, STRIP_BYTES // row)

    def _shortcut_in_strips(self, x: Tensor, rows: int) -> Tensor:
        """``panel.shortcut(conv(x))``, (N, C, H // 2, W // 2), computed
        ``rows`` output rows at a time.

        Output rows [a, b) need conv-branch rows [2a, 2b), which need the
        first BaseConv's rows [2a - 1, 2b + 1) (zero rows outside the
        image, the second conv's padding), which need input rows
        [2a - 2, 2b + 2). The values are the whole-map path's, from the
        same products; the first conv's two rows next to each strip border
        are computed twice (2 rows in 2 * rows), and the full-resolution
        maps (94 MB each for the stem at 544x544) are never allocated.
        """
        h = x.shape[-2]
        conv1, conv2 = self.conv
        outs = []
        for a in range(0, h // 2, rows):
            r0, r1 = 2 * a, min(2 * (a + rows), 2 * (h // 2))
            c0, c1 = max(r0 - 1, 0), min(r1 + 1, h)
            xi = x[:, :, max(c0 - 1, 0):min(c1 + 1, h)]
            y = conv1.forward_rows(pad_rows(xi, c0 == 0, c1 == h))
            y = conv2.forward_rows(pad_rows(y, r0 == 0, r1 == h))
            outs.append(self.panel.shortcut.forward_rows(y))
        return torch.cat(outs, dim=2)


@MODELS.register_module()
class UPANetV2(BaseModule):
    """UPANet V2 (``UPANets(f, block=1)`` of RAMEM).

    A stride-2 stem (3 -> f, no attention) and four stages; every stage is
    a stride-2 transition (panel attention in stages 2-4) followed by
    ``num_dense`` dense blocks whose growth is a quarter of the stage input,
    so each stage doubles the channels.

    ======  ========  ==================  ============
    stage   stride    attention (tokens)  out channels
    ======  ========  ==================  ============
    stem    2         no                  f
    1       4         no                  2f
    2       8         (H/8)*(W/8)         4f
    3       16        (H/16)*(W/16)       8f
    4       32        (H/32)*(W/32)       16f
    ======  ========  ==================  ============

    With ``widths=80`` (UPANet80) the stage outputs at 544x544 are
    160@136, 320@68, 640@34, 1280@17 and the backbone has 33.76 M parameters.

    Args:
        width (int): f; the reference uses 16, 32, 64, 80 or 96.
        num_dense (int): Dense blocks per stage. Defaults to 4.
        attention_stages (Sequence[int]): Stages (1-4) whose transition
            uses global panel attention. Defaults to (2, 3, 4).
        out_indices (Sequence[int]): Stages to return, 0-based over stages
            1-4. Defaults to (1, 2, 3) (strides 8, 16, 32).

    Shapes:
        input: (N, 3, H, W), H and W multiples of 32 (not necessarily equal).
        output: tuple of (N, 2^(i+1) f, H / 2^(i+2), W / 2^(i+2)).
    """

    def __init__(self,
                 width: int = 80,
                 num_dense: int = 4,
                 attention_stages: Sequence[int] = (2, 3, 4),
                 out_indices: Sequence[int] = (1, 2, 3),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if any(i not in range(4) for i in out_indices):
            raise ValueError(f'out_indices must be in 0..3, got {out_indices}')
        self.width = width
        self.out_indices = tuple(out_indices)
        self.stem = UPABlock(3, width, stride=2)
        channels = width
        self.stages = nn.ModuleList()
        self.out_channels = []
        for stage in range(1, 5):
            blocks = [
                UPABlock(channels, channels, 2, stage in attention_stages)
            ]
            growth = channels // num_dense
            if growth * num_dense != channels:
                raise ValueError(f'width {width}: stage {stage} has '
                                 f'{channels} channels, not divisible by '
                                 f'num_dense={num_dense}')
            for i in range(num_dense):
                blocks.append(UPABlock(channels + i * growth, growth, 1))
            channels *= 2
            self.stages.append(nn.Sequential(*blocks))
            self.out_channels.append(channels)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        h, w = x.shape[-2:]
        if h % 32 or w % 32:
            raise ValueError(
                f'UPANetV2 needs input sides that are multiples of 32, got '
                f'{h}x{w}: pad the batch (DetDataPreprocessor '
                'pad_size_divisor=32)')
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
