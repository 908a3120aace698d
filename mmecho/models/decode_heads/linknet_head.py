# Copyright (c) mmecho contributors. All rights reserved.
"""LinkNet decoder (Chaurasia & Culurciello, VCIP 2017) as
segmentation_models_pytorch builds it (smp 0.6.0, ``Linknet`` with default
arguments: ``LinknetDecoder`` + a 1x1 ``SegmentationHead``).

Where smp departs from the paper: the decoder blocks upsample with a 4x4
transposed conv (stride 2, padding 1; the paper's full-convolution is 3x3),
and instead of the paper's final full-conv 3x3 / conv 3x3 / full-conv 2x2
classifier smp adds a fifth decoder block (to 32 channels, full resolution)
and a 1x1 conv to the classes.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


class LinkNetDecoderBlock(nn.Module):
    """smp's LinkNet ``DecoderBlock``: 1x1 conv (no bias) + BN + ReLU to
    ``C // 4``; 4x4 transposed conv with stride 2 and padding 1 (2x up,
    **with bias**, as smp's ``TransposeX2``) + BN + ReLU; 1x1 conv (no
    bias) + BN + ReLU to ``out_channels``.

    Shapes: ``(B, Cin, h, w)`` -> ``(B, Cout, 2h, 2w)``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        mid = max(in_channels // 4, 1)
        self.reduce = ConvModule(
            in_channels, mid, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(mid, mid, 4, stride=2, padding=1, bias=True),
            build_norm_layer(norm_cfg, mid)[1],
            build_activation_layer(act_cfg))
        self.expand = ConvModule(
            mid, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, Cin, h, w)`` -> ``(B, Cout, 2h, 2w)``."""
        return self.expand(self.up(self.reduce(x)))


@MODELS.register_module()
class LinkNetHead(BaseDecodeHead):
    """LinkNet decoder on any pyramid encoder (smp's ``LinknetDecoder``):
    from the deepest level, each block upsamples 2x to the next level's
    channels and *adds* that level (LinkNet's residual link); a last block
    (no link) reaches full resolution with ``prefinal_channels``; a 1x1 conv
    (``conv_seg``, with bias; smp's ``SegmentationHead(kernel_size=1)``)
    gives the logits.

    Args:
        prefinal_channels (int): Channels of the last block (32 in smp).
        **kwargs: :class:`BaseDecodeHead` arguments.

    Shapes:
        inputs: levels ``(B, C_l, H / s_l, W / s_l)``, strides doubling from
        the shallowest; output ``(B, num_classes, H * 2 / s_0, ...)`` (the
        input's size for the grid's five levels).
    """

    def __init__(self, prefinal_channels: int = 32, **kwargs) -> None:
        super().__init__(
            channels=prefinal_channels,
            input_transform='multiple_select',
            **kwargs)
        chans = list(self.in_channels)[::-1] + [prefinal_channels]
        self.blocks = nn.ModuleList(
            LinkNetDecoderBlock(chans[i], chans[i + 1], self.norm_cfg,
                                self.act_cfg) for i in range(len(chans) - 1))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)[::-1]
        x = feats[0]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i + 1 < len(feats):
                skip = feats[i + 1]
                if x.shape[-2:] != skip.shape[-2:]:
                    # odd sizes (smp requires multiples of 32 and adds
                    # directly)
                    x = F.interpolate(
                        x,
                        size=skip.shape[-2:],
                        mode='bilinear',
                        align_corners=False)
                x = x + skip
        return self.cls_seg(x)
