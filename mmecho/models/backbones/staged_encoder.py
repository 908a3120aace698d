# Copyright (c) mmecho contributors. All rights reserved.
"""Common base of the CAMUS-benchmark encoders: a five-level pyramid.

Every encoder of the grid (ResNet, EfficientNet, MobileNetV2 and the plain
convolutional default) is cut into five stages whose outputs have strides 2,
4, 8, 16 and 32 (segmentation_models_pytorch's ``depth=5`` convention), so any
decoder works with any encoder. The wrapped network is kept whole as
``self.body`` (its state-dict keys are the upstream ones, so ImageNet
weights saved from mmseg/mmdet/torchvision load with ``pretrained=PATH``);
the stages are views onto its modules.

``pretrained=PATH`` loads weights into ``body`` strictly
(:mod:`mmecho.models.backbones.imagenet_weights`): the published ImageNet
files (torchvision ResNet / MobileNetV2, lukemelas EfficientNet, the ones
smp uses) are converted to the body's keys, a checkpoint in the body's own
layout loads as it is, and anything that does not cover every tensor of the
encoder with the right shape is an error naming the file.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmecho.models.utils import make_dilated
from .imagenet_weights import load_pretrained_weights

STRIDES = (2, 4, 8, 16, 32)


def _strict_pretrained(pretrained, init_cfg):
    """Move an ``init_cfg`` of type ``Pretrained`` to ``pretrained``."""
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    keep, found = [], []
    for c in cfgs:
        if isinstance(c, dict) and c.get('type') == 'Pretrained':
            found.append(c)
        elif c is not None:
            keep.append(c)
    if not found:
        return pretrained, init_cfg
    if len(found) > 1 or pretrained:
        raise ValueError('give the encoder\'s weights once: pretrained=PATH '
                         'or one init_cfg of type Pretrained')
    if found[0].get('prefix'):
        raise ValueError(
            'init_cfg Pretrained with a prefix: extract the encoder\'s '
            'weights to a file of their own and pass pretrained=PATH (an '
            'encoder loads a whole file, strictly)')
    checkpoint = found[0].get('checkpoint')
    if not checkpoint:
        raise ValueError('init_cfg Pretrained without a checkpoint')
    new_cfg = None if not keep else (keep if isinstance(init_cfg, list) else
                                     keep[0])
    return checkpoint, new_cfg


class StagedEncoder(BaseModule):
    """Base class: build ``self.body``, then call :meth:`_set_stages`.

    Args:
        out_indices (Sequence[int]): Which of the five levels to return
            (0 = stride 2 ... 4 = stride 32). Levels deeper than the deepest
            requested one are not built (PSPNet uses levels up to 2).
        output_stride (int): 32 (plain), 16 (the last level dilated by 2) or
            8 (levels 3 and 4 dilated by 2 and 4), as DeepLab and PAN use.
        pretrained (str, optional): Weights of the wrapped network, loaded
            into ``body`` strictly when the encoder is built: a local file
            (read with ``weights_only=True``) in the published ImageNet
            layout (torchvision's ``resnet34-b627a593.pth``,
            ``mobilenet_v2-b0353104.pth``, lukemelas'
            ``efficientnet-b3-5fb5a3c3.pth``) or in the body's own layout,
            or a ``torchvision://``, ``open-mmlab://``, ``http(s)://`` URI
            (downloaded by mmengine). A file that does not fit raises
            :class:`~mmecho.engine.checkpoint.CheckpointMismatchError`.
        init_cfg (dict, optional): mmengine init config. A ``Pretrained``
            entry (mmengine would load it non-strictly, dropping whatever
            does not fit without an error) is taken as ``pretrained`` and
            loaded strictly like it; a ``prefix`` there is refused.

    Attributes:
        imagenet_layout (str or None): The layout of the wrapped network's
            published ImageNet weights (a key of
            ``imagenet_weights.LAYOUTS``); None: there are none.
        unbuilt_prefixes (tuple[str]): ``body`` module names (in the full
            network's naming) of levels not built for ``out_indices``;
            weights of a full network for them are skipped when loading.
        pretrained_report (dict or None): What ``pretrained`` loaded.
        out_channels (tuple[int]): Channels of the returned levels.
        strides (tuple[int]): Their strides w.r.t. the input (before
            dilation: a dilated level keeps the previous level's stride).
    """

    imagenet_layout: Optional[str] = None

    def __init__(self,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 output_stride: int = 32,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        pretrained, init_cfg = _strict_pretrained(pretrained, init_cfg)
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
        self.pretrained_report = None
        self.num_levels = max(out_indices) + 1
        self.unbuilt_prefixes: Tuple[str, ...] = ()

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
            self.pretrained_report = load_pretrained_weights(
                self, self.pretrained, map_location='cpu')

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
