# Copyright (c) mmecho contributors. All rights reserved.
"""The light U-Net of the CAMUS baselines ("U-Net 1", Leclerc et al., TMI
2019): about 2M parameters, no normalisation, nearest-neighbour upsampling.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmecho.registry import MODELS


@MODELS.register_module()
class LightUNet(BaseModule):
    """A complete U-Net body: encoder levels of two 3x3 conv-ReLU separated by
    2x2 max-pooling, decoder levels of 2x nearest upsampling, concatenation
    with the encoder level and two 3x3 conv-ReLU.

    With the defaults (encoder 32, 32, 64, 128, 128, 128; decoder 128, 128,
    64, 32, 16) a 256x256 input reaches 8x8 at the bottom and the network has
    1.98M parameters, 1,977,152 (CAMUS "U-Net 1": 32 / 128 / 16 feature
    maps, 8x8 lowest resolution, 2M parameters).

    Args:
        in_channels (int): Input channels.
        encoder_channels (Sequence[int]): Channels per encoder level (the
            last one is the bottom).
        decoder_channels (Sequence[int]): Channels per decoder level, deepest
            first; ``len = len(encoder_channels) - 1``.
        norm_cfg (dict, optional): Normalisation (None as in U-Net 1).
        upsample_mode (str): ``'nearest'`` (U-Net 1) or ``'bilinear'``.
        align_corners (bool, optional): With ``'bilinear'`` (the thesis's
            appendix U-Net: ``nn.Upsample(scale_factor=2, mode='bilinear',
            align_corners=True)``).
        init_cfg (dict, optional): mmengine init config. He (Kaiming)
            initialisation by default: without normalisation, PyTorch's
            default init shrinks the activations through the 22 conv layers
            and the network starts (and stays) predicting background only.

    Shapes:
        ``(B, in_channels, H, W)`` (H, W multiples of 2**(levels-1)) ->
        a 1-tuple ``((B, decoder_channels[-1], H, W), )`` (mmseg convention).
    """

    def __init__(
        self,
        in_channels: int = 3,
        encoder_channels: Sequence[int] = (32, 32, 64, 128, 128, 128),
        decoder_channels: Sequence[int] = (128, 128, 64, 32, 16),
        norm_cfg=None,
        upsample_mode: str = 'nearest',
        align_corners: Optional[bool] = None,
        init_cfg=dict(
            type='Kaiming', layer='Conv2d', mode='fan_in', nonlinearity='relu')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError("upsample_mode must be 'nearest' or 'bilinear', "
                             f'got {upsample_mode!r}')
        self.upsample_mode = upsample_mode
        self.align_corners = (None if upsample_mode == 'nearest' else
                              bool(align_corners))
        if len(decoder_channels) != len(encoder_channels) - 1:
            raise ValueError('decoder_channels needs one entry per encoder '
                             'level except the bottom')

        def double(cin, cout):
            return nn.Sequential(
                ConvModule(cin, cout, 3, padding=1, norm_cfg=norm_cfg),
                ConvModule(cout, cout, 3, padding=1, norm_cfg=norm_cfg))

        self.encoder = nn.ModuleList()
        prev = in_channels
        for c in encoder_channels:
            self.encoder.append(double(prev, c))
            prev = c
        self.decoder = nn.ModuleList()
        skips = list(encoder_channels[:-1])[::-1]
        for skip, c in zip(skips, decoder_channels):
            self.decoder.append(double(prev + skip, c))
            prev = c
        self.out_channels = (decoder_channels[-1], )
        self.depth = len(encoder_channels) - 1

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        skips = []
        for i, level in enumerate(self.encoder):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = level(x)
            skips.append(x)
        skips.pop()  # the bottom
        for level in self.decoder:
            skip = skips.pop()
            x = F.interpolate(
                x,
                size=skip.shape[-2:],
                mode=self.upsample_mode,
                align_corners=self.align_corners)
            x = level(torch.cat([x, skip], dim=1))
        return (x, )
