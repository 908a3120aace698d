# Copyright (c) mmecho contributors. All rights reserved.
"""U-Net decoder (Ronneberger et al., MICCAI 2015) as
segmentation_models_pytorch builds it (smp 0.6.0, ``Unet`` with default
arguments: ``UnetDecoder`` + ``SegmentationHead``).

smp's U-Net departs from the paper: padded 3x3 convs with batch norm, nearest
upsampling instead of the learned 2x2 up-convolution, decoder widths fixed
(256, 128, 64, 32, 16) whatever the encoder, and a 3x3 classifier (the paper:
1x1).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.models.layers import UNetDecoderBlock
from mmecho.registry import MODELS


@MODELS.register_module()
class UNetHead(BaseDecodeHead):
    """U-Net decoder on any pyramid encoder, smp's ``UnetDecoder``.

    From the deepest level up, each block upsamples 2x (nearest),
    concatenates the next shallower level and applies two 3x3 conv-BN-ReLU
    (:class:`UNetDecoderBlock`, smp's ``UnetDecoderBlock`` without
    attention); blocks beyond the shallowest level upsample without a skip.
    With the five levels of the grid's encoders (strides 2..32) and five
    blocks the output is at full resolution. A ``kernel_size`` conv (smp's
    ``SegmentationHead``: 3x3 with bias) gives the logits.

    Args:
        decoder_channels (Sequence[int]): Output channels of the blocks,
            deepest first; ``len >= number of levels - 1``.
        kernel_size (int): Classifier kernel (smp: 3).
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels`` is the
            list of level channels, shallow to deep; ``in_index`` the levels).

    Shapes:
        inputs: levels ``(B, C_l, H / s_l, W / s_l)``; output
        ``(B, num_classes, H * 2**n / s_max, ...)`` with ``n`` blocks.
    """

    def __init__(self,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
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
        skips = enc[1:] + [0] * (len(decoder_channels) - len(enc) + 1)
        ins = [enc[0]] + list(decoder_channels[:-1])
        self.blocks = nn.ModuleList(
            UNetDecoderBlock(i, s, o, self.norm_cfg, self.act_cfg)
            for i, s, o in zip(ins, skips, decoder_channels))
        # smp's SegmentationHead conv; replaces BaseDecodeHead's 1x1
        # conv_seg, so its init_cfg still applies
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = feats[0]
        for i, block in enumerate(self.blocks):
            x = block(x, feats[i + 1] if i + 1 < len(feats) else None)
        return self.cls_seg(x)
