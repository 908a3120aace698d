# Copyright (c) mmecho contributors. All rights reserved.
"""FPN decoder as segmentation_models_pytorch builds it (smp 0.6.0, ``FPN``
with default arguments): the semantic-segmentation branch of Kirillov et
al.'s panoptic FPN (CVPR 2019) on a top-down pyramid (Lin et al., CVPR 2017).

Differences from mmseg's ``FPN`` neck + ``FPNHead`` (and from Lin et al.):
the pyramid has no 3x3 conv after each lateral sum, the segmentation blocks
use GroupNorm (32 groups) and upsample bilinearly with
``align_corners=True``, the merged map gets 2D dropout (0.2), and the
logits are upsampled x4 inside the head.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


class SMPFPNSegBlock(nn.Sequential):
    """``max(1, num_upsamples)`` times 3x3 conv + norm + act (the conv has
    no bias when there is a norm), each followed by a bilinear x2
    upsampling (``align_corners=True``) when ``num_upsamples > 0``."""

    def __init__(self, in_channels: int, channels: int, num_upsamples: int,
                 conv_cfg, norm_cfg, act_cfg) -> None:
        super().__init__()
        self.num_upsamples = num_upsamples
        for i in range(max(1, num_upsamples)):
            self.append(
                ConvModule(
                    in_channels if i == 0 else channels,
                    channels,
                    3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self:
            x = conv(x)
            if self.num_upsamples > 0:
                x = F.interpolate(
                    x, scale_factor=2, mode='bilinear', align_corners=True)
        return x


@MODELS.register_module()
class SMPFPNHead(BaseDecodeHead):
    """smp's FPN decoder and segmentation head.

    Pyramid (``pyramid_channels``, 256): the deepest level goes through a
    1x1 conv (bias); each shallower level's 1x1 lateral conv (bias) is added
    to the deeper pyramid level upsampled x2 (``interpolation``, nearest).
    Each pyramid level then goes through a segmentation block of 3x3
    conv-GN-ReLU to ``channels`` (128) with x2 upsamplings until it reaches
    the shallowest level's stride; the blocks are summed (smp's
    ``merge_policy='add'``), followed by dropout (``dropout_ratio``, 0.2 in
    smp), a 1x1 ``conv_seg`` and a bilinear x``upsampling`` resize
    (``align_corners=True``).

    Args:
        pyramid_channels (int): Channels of the top-down pyramid.
        interpolation (str): Mode of the top-down x2 upsampling.
        upsampling (int): Scale factor of the final upsampling (4 brings
            smp's stride-4 logits to the input size).
        **kwargs: :class:`BaseDecodeHead` arguments; ``in_index`` lists the
            levels shallow to deep, each at twice the previous stride (smp:
            strides 4, 8, 16, 32). ``norm_cfg`` defaults to GroupNorm with
            32 groups, as smp.

    Shapes:
        inputs: levels ``(B, C_l, H / s_l, W / s_l)``; output
        ``(B, num_classes, upsampling * H / s_0, upsampling * W / s_0)``.
    """

    def __init__(self,
                 pyramid_channels: int = 256,
                 interpolation: str = 'nearest',
                 upsampling: int = 4,
                 norm_cfg: dict = dict(
                     type='GN', num_groups=32, requires_grad=True),
                 **kwargs) -> None:
        super().__init__(
            input_transform='multiple_select', norm_cfg=norm_cfg, **kwargs)
        self.pyramid_channels = pyramid_channels
        self.interpolation = interpolation
        self.upsampling = upsampling
        num_levels = len(self.in_channels)
        self.lateral_convs = nn.ModuleList(
            nn.Conv2d(c, pyramid_channels, 1) for c in self.in_channels)
        self.seg_blocks = nn.ModuleList(
            SMPFPNSegBlock(pyramid_channels, self.channels, i, self.conv_cfg,
                           self.norm_cfg, self.act_cfg)
            for i in range(num_levels))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        # top-down pyramid, deepest level first
        p = self.lateral_convs[-1](feats[-1])
        pyramid = [p]
        for i in range(len(feats) - 2, -1, -1):
            p = F.interpolate(
                p, scale_factor=2, mode=self.interpolation) + \
                self.lateral_convs[i](feats[i])
            pyramid.append(p)
        pyramid = pyramid[::-1]  # shallow to deep
        # summed deepest first, in smp's order (MergeBlock: sum([s5, s4, s3,
        # s2])): the same logits bit for bit, not just within float rounding
        x = sum(block(p) for block, p in reversed(
            list(zip(self.seg_blocks, pyramid))))
        x = self.cls_seg(x)
        if self.upsampling > 1:
            x = F.interpolate(
                x,
                scale_factor=self.upsampling,
                mode='bilinear',
                align_corners=True)
        return x
