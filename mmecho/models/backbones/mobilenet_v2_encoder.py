# Copyright (c) mmecho contributors. All rights reserved.
"""MobileNetV2 (mmseg's) as a 5-level encoder."""
import torch.nn as nn
from mmseg.models.backbones import MobileNetV2

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder


@MODELS.register_module()
class MobileNetV2Encoder(StagedEncoder):
    """Levels: conv1 + layer1 (16 ch, stride 2), layer2 (24, 4), layer3 (32,
    8), layer4 + layer5 (96, 16), layer6 + layer7 (320, 32).

    Args:
        widen_factor (float): Width multiplier.
        norm_cfg (dict): Normalisation layers.
        **kwargs: :class:`StagedEncoder` arguments.
    """

    def __init__(self,
                 widen_factor: float = 1.0,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.body = MobileNetV2(
            widen_factor=widen_factor,
            strides=(1, 2, 2, 2, 1, 2, 1),
            dilations=(1, 1, 1, 1, 1, 1, 1),
            out_indices=(6, ),
            norm_cfg=norm_cfg)
        b = self.body
        groups = [('conv1', 'layer1'), ('layer2', ), ('layer3', ),
                  ('layer4', 'layer5'), ('layer6', 'layer7')]
        stages = [
            nn.Sequential(*[getattr(b, n) for n in g])
            for g in groups[:self.num_levels]
        ]
        for g in groups[self.num_levels:]:  # not built into the graph
            for n in g:
                delattr(b, n)

        def out_ch(stage):
            convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
            return convs[-1].out_channels

        channels = [out_ch(s) for s in stages]
        self._set_stages(stages, channels + [0] * (5 - len(channels)))
