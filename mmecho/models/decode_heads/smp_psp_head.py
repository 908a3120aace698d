# Copyright (c) mmecho contributors. All rights reserved.
"""PSPNet decoder as segmentation_models_pytorch builds it (smp 0.6.0,
``PSPNet`` with default arguments).

smp's PSPNet is lighter than the paper's (Zhao et al., CVPR 2017) and than
mmseg's :class:`~mmseg.models.decode_heads.PSPHead`: it reads the stride-8
level of a shallow encoder (``encoder_depth=3``) instead of a dilated
ResNet's stride-8 output, fuses the pyramid with a 1x1 conv (mmseg and the
paper use a 3x3 conv to 512 channels) and has no auxiliary loss.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


class SMPPyramidPooling(nn.ModuleList):
    """One branch per pool size: adaptive average pooling to ``s x s``, 1x1
    conv to ``channels`` (+ norm) + activation, bilinear resize back
    (``align_corners=True``).

    The 1x1-pooled branch has no normalisation (a batch norm would see one
    value per sample and channel) and its conv has a bias instead.
    """

    def __init__(self, pool_sizes: Sequence[int], in_channels: int,
                 channels: int, conv_cfg, norm_cfg, act_cfg) -> None:
        super().__init__()
        for size in pool_sizes:
            self.append(
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(size),
                    ConvModule(
                        in_channels,
                        channels,
                        1,
                        conv_cfg=conv_cfg,
                        norm_cfg=None if size == 1 else norm_cfg,
                        act_cfg=act_cfg)))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """``(B, C, h, w)`` -> one ``(B, channels, h, w)`` map per branch."""
        return [
            F.interpolate(
                branch(x),
                size=x.shape[2:],
                mode='bilinear',
                align_corners=True) for branch in self
        ]


@MODELS.register_module()
class SMPPSPHead(BaseDecodeHead):
    """smp's PSPNet decoder and segmentation head.

    On the deepest given level (``C`` channels, stride 8 in smp): the
    pyramid pooling branches (each to ``C // len(pool_sizes)`` channels) are
    concatenated with the level itself, a 1x1 conv-BN-ReLU reduces the
    ``2 C`` channels (for four branches) to ``channels`` (smp's
    ``psp_out_channels``, 512), then dropout (``dropout_ratio``, 0.2 in smp)
    and a **3x3** ``conv_seg`` give the logits, which are upsampled
    bilinearly (``align_corners=True``) by ``upsampling``.

    Args:
        pool_sizes (Sequence[int]): Output sizes of the pooling branches.
        upsampling (int): Scale factor of the final upsampling (8 brings
            smp's stride-8 logits to the input size; 1 leaves the resize to
            :class:`BaseDecodeHead`).
        seg_kernel_size (int): Kernel of ``conv_seg`` (3 in smp).
        **kwargs: :class:`BaseDecodeHead` arguments; ``in_index`` selects
            the level (the deepest one the encoder builds).

    Shapes:
        input: level ``(B, C, H / s, W / s)``; output
        ``(B, num_classes, upsampling * H / s, upsampling * W / s)``.
    """

    def __init__(self,
                 pool_sizes: Sequence[int] = (1, 2, 3, 6),
                 upsampling: int = 8,
                 seg_kernel_size: int = 3,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.input_transform is not None:
            raise ValueError('SMPPSPHead reads one level: give an int '
                             'in_index and no input_transform')
        self.pool_sizes = tuple(pool_sizes)
        self.upsampling = upsampling
        branch_channels = self.in_channels // len(self.pool_sizes)
        self.psp_modules = SMPPyramidPooling(self.pool_sizes, self.in_channels,
                                             branch_channels, self.conv_cfg,
                                             self.norm_cfg, self.act_cfg)
        self.bottleneck = ConvModule(
            self.in_channels + branch_channels * len(self.pool_sizes),
            self.channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        # smp's SegmentationHead conv (kernel 3, bias); replaces the 1x1
        # conv_seg of BaseDecodeHead, so its init_cfg still applies
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            seg_kernel_size,
            padding=seg_kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        x = self._transform_inputs(inputs)
        x = torch.cat(self.psp_modules(x) + [x], dim=1)
        x = self.cls_seg(self.bottleneck(x))
        if self.upsampling > 1:
            x = F.interpolate(
                x,
                scale_factor=self.upsampling,
                mode='bilinear',
                align_corners=True)
        return x
