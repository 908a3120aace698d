# Copyright (c) mmecho contributors. All rights reserved.
"""U-Net++: nested dense skip pathways (Zhou et al., DLMIA 2018), with the
node widths of segmentation_models_pytorch's ``UnetPlusPlusDecoder``."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.models.layers import UNetDecoderBlock
from mmecho.registry import MODELS


@MODELS.register_module()
class UNetPlusPlusHead(BaseDecodeHead):
    """U-Net++ decoder on any pyramid encoder, as smp builds it.

    Node ``X[l][j]`` sits at level ``l`` (0 = shallowest, ``L`` levels) and
    column ``j``; ``X[l][0]`` is the encoder level and, for ``j >= 1`` and
    ``l + j <= L - 1``,
    ``X[l][j] = Block(up(X[l + 1][j - 1]), cat(X[l][j - 1], ..., X[l][0]))``
    (:class:`UNetDecoderBlock`: nearest 2x upsampling, concatenation, two
    3x3 conv-BN-ReLU). The last node of each level (``l + j = L - 1``) is on
    the main path and has the decoder width of its level
    (``decoder_channels``, deepest first); every other nested node keeps the
    encoder's width at its level (e.g. 256 and 512 for ResNet-50's stride-4
    and stride-8 levels), as smp does. The top node ``X[0][L - 1]`` is then
    upsampled by one block per remaining ``decoder_channels`` entry (no
    skip), and a ``kernel_size`` conv classifies (smp: 3x3).

    In the U-Net++ paper all nodes of a level have the same number of
    kernels; smp's rule makes the nested nodes of deep encoders much wider
    (ResNet-50: 48.99 M parameters against 32.52 M for smp's U-Net).

    Args:
        decoder_channels (Sequence[int]): Widths of the main-path nodes,
            deepest first (``L - 1`` values), then of each final upsampling
            block (smp: 256, 128, 64, 32, 16).
        kernel_size (int): Classifier kernel (smp's ``SegmentationHead``: 3).
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels``: the
            level channels, shallow to deep).

    Shapes:
        inputs: levels ``(B, C_l, H / 2**(l + 1), W / 2**(l + 1))``; output
        ``(B, num_classes, H * 2**n / 2**L, ...)`` with ``n`` final blocks
        (the input's size for the grid's five levels and five widths).
    """

    def __init__(self,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 kernel_size: int = 3,
                 **kwargs) -> None:
        super().__init__(
            channels=decoder_channels[-1],
            input_transform='multiple_select',
            **kwargs)
        enc = list(self.in_channels)
        L = len(enc)
        if L < 2:
            raise ValueError('U-Net++ needs at least two levels')
        if len(decoder_channels) < L - 1:
            raise ValueError(f'{L} levels need at least {L - 1} decoder '
                             f'channels, got {len(decoder_channels)}')
        # main-path width per level 0 .. L-2
        main = list(decoder_channels[:L - 1])[::-1]

        def width(lev: int, j: int) -> int:
            if j == 0:
                return enc[lev]
            return main[lev] if lev + j == L - 1 else enc[lev]

        self.num_levels = L
        self.nodes = nn.ModuleDict()
        for j in range(1, L):
            for lev in range(0, L - j):
                skip = sum(width(lev, k) for k in range(j))
                self.nodes[f'{lev}_{j}'] = UNetDecoderBlock(
                    width(lev + 1, j - 1), skip, width(lev, j), self.norm_cfg,
                    self.act_cfg)
        ins = [main[0]] + list(decoder_channels[L - 1:-1])
        self.final = nn.ModuleList(
            UNetDecoderBlock(i, 0, o, self.norm_cfg, self.act_cfg)
            for i, o in zip(ins, decoder_channels[L - 1:]))
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        L = self.num_levels
        X = {(lev, 0): f for lev, f in enumerate(feats)}
        for j in range(1, L):
            for lev in range(0, L - j):
                # newest node first, the encoder level last (smp's order)
                skip = torch.cat([X[(lev, k)] for k in range(j - 1, -1, -1)],
                                 dim=1)
                X[(lev, j)] = self.nodes[f'{lev}_{j}'](X[(lev + 1, j - 1)],
                                                       skip)
        x = X[(0, L - 1)]
        for block in self.final:
            x = block(x)
        return self.cls_seg(x)
