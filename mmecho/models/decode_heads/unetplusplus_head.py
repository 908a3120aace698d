# Copyright (c) mmecho contributors. All rights reserved.
"""U-Net++: nested dense skip pathways (Zhou et al., DLMIA 2018)."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.models.layers import UNetDecoderBlock
from mmecho.registry import MODELS


@MODELS.register_module()
class UNetPlusPlusHead(BaseDecodeHead):
    """U-Net++ decoder on any pyramid encoder.

    Node ``X[l][j]`` sits at level ``l`` (0 = shallowest) and column ``j``;
    ``X[l][0]`` is the encoder level and, for ``j >= 1``,
    ``X[l][j] = Block(up(X[l + 1][j - 1]), cat(X[l][0], ..., X[l][j - 1]))``.
    The top node ``X[0][L - 1]`` is upsampled by the remaining blocks
    (without skip) to full resolution.

    Args:
        decoder_channels (Sequence[int]): Channels of the nested nodes per
            level, deepest first (``L - 1`` values), then of each final
            upsampling block.
        **kwargs: :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 **kwargs) -> None:
        super().__init__(
            channels=decoder_channels[-1],
            input_transform='multiple_select',
            **kwargs)
        enc = list(self.in_channels)
        L = len(enc)
        if len(decoder_channels) < L - 1:
            raise ValueError(f'{L} levels need at least {L - 1} decoder '
                             f'channels, got {len(decoder_channels)}')
        dec = list(decoder_channels[:L - 1])[::-1]  # level 0 .. L-2
        self.num_levels = L
        self.nodes = nn.ModuleDict()
        for j in range(1, L):
            for lev in range(0, L - j):
                deeper = enc[lev + 1] if j == 1 else dec[lev + 1]
                skip = enc[lev] + (j - 1) * dec[lev]
                self.nodes[f'{lev}_{j}'] = UNetDecoderBlock(
                    deeper, skip, dec[lev], self.norm_cfg, self.act_cfg)
        ins = [dec[0]] + list(decoder_channels[L - 1:-1])
        self.final = nn.ModuleList(
            UNetDecoderBlock(i, 0, o, self.norm_cfg, self.act_cfg)
            for i, o in zip(ins, decoder_channels[L - 1:]))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        L = self.num_levels
        X = {(lev, 0): f for lev, f in enumerate(feats)}
        for j in range(1, L):
            for lev in range(0, L - j):
                skip = torch.cat([X[(lev, k)] for k in range(j)], dim=1)
                X[(lev, j)] = self.nodes[f'{lev}_{j}'](X[(lev + 1, j - 1)],
                                                       skip)
        x = X[(0, L - 1)]
        for block in self.final:
            x = block(x)
        return self.cls_seg(x)
