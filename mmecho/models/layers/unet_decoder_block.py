# Copyright (c) mmecho contributors. All rights reserved.
"""The U-Net decoder step shared by the U-Net, U-Net++ and MANet heads."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule


class UNetDecoderBlock(nn.Module):
    """Upsample 2x (nearest), concatenate the skip, two 3x3 conv-BN-ReLU.

    Args:
        in_channels (int): Channels of the deeper input.
        skip_channels (int): Channels of the skip (0: no skip).
        out_channels (int): Output channels.
        norm_cfg (dict): Normalisation layers.
        act_cfg (dict): Activation.
    """

    def __init__(
        self,
        in_channels: int,
        skip_channels: int,
        out_channels: int,
        norm_cfg: Optional[dict] = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU')
    ) -> None:
        super().__init__()
        self.conv1 = ConvModule(
            in_channels + skip_channels,
            out_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.conv2 = ConvModule(
            out_channels,
            out_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self,
                x: torch.Tensor,
                skip: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x`` ``(B, Cin, h, w)``, ``skip`` ``(B, Cs, 2h, 2w)`` or None ->
        ``(B, Cout, 2h, 2w)`` (upsampled to the skip's size when given)."""
        size = skip.shape[-2:] if skip is not None else None
        x = F.interpolate(
            x, size=size, scale_factor=None if size else 2.0, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))
