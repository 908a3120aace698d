# Copyright (c) mmecho contributors. All rights reserved.
"""Common base of the CAMUS-benchmark encoders: a five-level pyramid.

Every encoder of the grid (ResNet, EfficientNet, MobileNetV2 and the plain
convolutional default) is cut into five stages whose outputs have strides 2,
4, 8, 16 and 32 (segmentation_models_pytorch's ``depth=5`` convention), so any
decoder works with any encoder. The wrapped network is kept whole as
``self.body`` (its state-dict keys are the upstream ones, so ImageNet
weights saved from mmseg/mmdet/torchvision load with ``pretrained=PATH``);
the stages are views onto its modules.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint

from mmecho.models.utils import make_dilated

STRIDES = (2, 4, 8, 16, 32)


class StagedEncoder(BaseModule):
    """Base class: build ``self.body``, then call :meth:`_set_stages`.

    Args:
        out_indices (Sequence[int]): Which of the five levels to return
            (0 = stride 2 ... 4 = stride 32). Levels deeper than the deepest
            requested one are not built (PSPNet uses levels up to 2).
        output_stride (int): 32 (plain), 16 (the last level dilated by 2) or
            8 (levels 3 and 4 dilated by 2 and 4), as DeepLab and PAN use.
        pretrained (str, optional): A local checkpoint of the wrapped network
            (e.g. torchvision's ``resnet34-b627a593.pth``), loaded into
            ``body`` non-strictly; nothing is downloaded.
        init_cfg (dict, optional): mmengine init config.

    Attributes:
        out_channels (tuple[int]): Channels of the returned levels.
        strides (tuple[int]): Their strides w.r.t. the input (before
            dilation: a dilated level keeps the previous level's stride).
    """

    def __init__(self,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 output_stride: int = 32,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(5) for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError('out_indices must be increasing level indices in '
                             f'0..4, got {out_indices}')
        if output_stride not in (8, 16, 32):
            raise ValueError(
                f'output_stride must be 8, 16 or 32, got {output_stride}')
        self.out_indices = out_indices
        self.output_stride = output_stride
        self.pretrained = pretrained
        self.num_levels = max(out_indices) + 1

    def _set_stages(self, stages: List[nn.Module],
                    channels: Sequence[int]) -> None:
        """Register the stages (modules of ``self.body``) and their output
        channels; apply dilation; load ``pretrained``."""
        if len(stages) < self.num_levels:
            raise RuntimeError('encoder built fewer stages than requested')
        # a plain list: the modules are registered once, under ``body``
        object.__setattr__(self, '_stages', list(stages[:self.num_levels]))
        self.level_channels = tuple(int(c) for c in channels[:5])
        self.out_channels = tuple(self.level_channels[i]
                                  for i in self.out_indices)
        strides = list(STRIDES)
        if self.output_stride <= 16 and self.num_levels > 4:
            make_dilated(self._stages[4], 2 if self.output_stride == 16 else 4)
            strides[4] = 16 if self.output_stride == 16 else 8
        if self.output_stride == 8 and self.num_levels > 3:
            make_dilated(self._stages[3], 2)
            strides[3] = 8
        self.strides = tuple(strides[i] for i in self.out_indices)
        if self.pretrained:
            load_checkpoint(
                self.body, self.pretrained, map_location='cpu', strict=False)

    def init_weights(self) -> None:
        if self.pretrained:
            return  # keep the loaded weights
        super().init_weights()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``(B, C, H, W)`` image -> the requested levels, each
        ``(B, out_channels[i], H / strides[i], W / strides[i])``. H and W must
        be multiples of 32."""
        outs = []
        for i, stage in enumerate(self._stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
