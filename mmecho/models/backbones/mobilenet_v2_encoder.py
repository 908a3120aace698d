# Copyright (c) mmecho contributors. All rights reserved.
"""MobileNetV2 (mmseg's, plus mmpretrain's final 1x1 conv) as a 5-level
encoder: segmentation_models_pytorch's ``mobilenet_v2`` encoder.

smp (0.6) uses torchvision's ``MobileNetV2`` without its classifier, so its
deepest level is the output of torchvision's last ``features`` module, the
1x1 conv 320 -> 1280 + BN + ReLU6. mmseg's ``MobileNetV2`` has the same
stem and inverted-residual blocks (convs without bias, BN ``eps=1e-5,
momentum=0.1``, ReLU6, no activation after the projection, residual for
stride 1 and equal widths) but stops at 320 channels; the 1x1 conv is added
here as ``body.conv2``, the name mmpretrain's MobileNetV2 gives it, so
checkpoints in the mmseg/mmpretrain layout (``conv1``, ``layer1`` ...
``layer7``, ``conv2``) load into ``body``.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.backbones import MobileNetV2
from mmseg.models.utils import make_divisible

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder


@MODELS.register_module()
class MobileNetV2Encoder(StagedEncoder):
    """Levels (torchvision ``features`` indices in brackets, as smp cuts
    them): conv1 + layer1 (0-1; 16 ch, stride 2), layer2 (2-3; 24, 4), layer3
    (4-6; 32, 8), layer4 + layer5 (7-13; 96, 16), layer6 + layer7 + conv2
    (14-18; 1280, 32).

    Args:
        widen_factor (float): Width multiplier (torchvision's
            ``width_mult``; the last conv has ``1280 * max(1, widen_factor)``
            channels rounded to a multiple of 8).
        norm_cfg (dict): Normalisation layers.
        **kwargs: :class:`StagedEncoder` arguments.

    ``pretrained`` takes torchvision's ``mobilenet_v2-b0353104.pth`` as
    published (``features.i`` renamed to ``conv1``, ``layer1..7``,
    ``conv2``; ``classifier`` left out) or a checkpoint in this layout.
    """

    imagenet_layout = 'torchvision_mobilenet_v2'

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
                  ('layer4', 'layer5'), ('layer6', 'layer7', 'conv2')]
        if self.num_levels == 5:
            b.conv2 = ConvModule(
                in_channels=b.in_channels,  # the last block's width
                out_channels=make_divisible(1280 * max(1.0, widen_factor), 8),
                kernel_size=1,
                norm_cfg=norm_cfg,
                act_cfg=dict(type='ReLU6'))
        stages = [
            nn.Sequential(*[getattr(b, n) for n in g])
            for g in groups[:self.num_levels]
        ]
        self.unbuilt_prefixes = tuple(n for g in groups[self.num_levels:]
                                      for n in g)
        for g in groups[self.num_levels:]:  # not built into the graph
            for n in g:
                if hasattr(b, n):
                    delattr(b, n)

        def out_ch(stage):
            convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
            return convs[-1].out_channels

        channels = [out_ch(s) for s in stages]
        self._set_stages(stages, channels + [0] * (5 - len(channels)))
