# Copyright (c) mmecho contributors. All rights reserved.
"""A decode head that is only the classifier conv, for backbones that are
complete segmentation bodies (U-Net 1, the thesis's appendix U-Net)."""
from typing import List

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmecho.registry import MODELS


@MODELS.register_module()
class ClassifierHead(BaseDecodeHead):
    """A ``kernel_size`` x ``kernel_size`` conv (with bias) from the selected
    feature map to the logits; mmseg's ``FCNHead(num_convs=0)`` is the same
    with a 1x1 conv only.

    Args:
        kernel_size (int): Classifier kernel (the thesis's appendix U-Net:
            ``nn.Conv2d(32, n_class, 3, padding=1)``).
        **kwargs: :class:`BaseDecodeHead` arguments (``channels`` defaults to
            ``in_channels``).

    Shapes:
        ``inputs[in_index] (B, in_channels, H, W)`` ->
        ``(B, out_channels, H, W)``.
    """

    def __init__(self, kernel_size: int = 1, **kwargs) -> None:
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd and >= 1, got '
                             f'{kernel_size}')
        kwargs.setdefault('channels', kwargs.get('in_channels'))
        super().__init__(**kwargs)
        if self.channels != self.in_channels:
            raise ValueError(
                f'ClassifierHead has no convs before the classifier: '
                f'channels ({self.channels}) must equal in_channels '
                f'({self.in_channels})')
        self.conv_seg = nn.Conv2d(
            self.channels,
            self.out_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        return self.cls_seg(self._transform_inputs(inputs))
