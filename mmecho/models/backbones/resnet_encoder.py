# Copyright (c) mmecho contributors. All rights reserved.
"""ResNet-18/34/50/101 (mmseg's ResNet, torchvision layout) as a 5-level
encoder."""
import torch.nn as nn
from mmseg.models.backbones import ResNet

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder


@MODELS.register_module()
class ResNetEncoder(StagedEncoder):
    """Levels: stem (conv 7x7/2, 64 ch, stride 2), layer1 (stride 4),
    layer2 (8), layer3 (16), layer4 (32). Channels 64, 64/256, 128/512,
    256/1024, 512/2048 for basic/bottleneck blocks.

    Args:
        depth (int): 18, 34, 50 or 101.
        in_channels (int): Image channels.
        norm_cfg (dict): Normalisation layers.
        **kwargs: :class:`StagedEncoder` arguments.

    ``pretrained`` takes torchvision's ImageNet files as they are published
    (``resnet18-f37072fd.pth``, ``resnet34-b627a593.pth``,
    ``resnet50-0676ba61.pth``, ``resnet101-63fe2227.pth`` and the older
    ``-5c106cde``, ``-333f7ec4``, ``-19c8e357``, ``-5d3b4d8f`` ones smp
    lists): mmseg's ResNet has torchvision's names; ``fc`` is left out.
    """

    imagenet_layout = 'torchvision_resnet'

    def __init__(self,
                 depth: int = 34,
                 in_channels: int = 3,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        num_stages = max(1, self.num_levels - 1)
        self.depth = depth
        self.unbuilt_prefixes = tuple(f'layer{i}'
                                      for i in range(num_stages + 1, 5))
        self.body = ResNet(
            depth=depth,
            in_channels=in_channels,
            num_stages=num_stages,
            strides=(1, 2, 2, 2)[:num_stages],
            dilations=(1, 1, 1, 1)[:num_stages],
            out_indices=(0, ),
            style='pytorch',
            norm_cfg=norm_cfg,
            # torchvision's (and so smp's) from-scratch initialisation: the
            # last BN of each residual block starts at 1, not 0 (mmseg's
            # default)
            zero_init_residual=False)
        b = self.body
        expansion = b.block.expansion
        stages = [
            nn.Sequential(b.conv1, b.norm1, b.relu),
            nn.Sequential(b.maxpool, b.layer1)
        ] + [getattr(b, f'layer{i}') for i in range(2, self.num_levels)]
        channels = [64] + [64 * 2**i * expansion for i in range(4)]
        self._set_stages(stages, channels)
