# Copyright (c) mmecho contributors. All rights reserved.
"""ResNet-50 with panel-attention downsampling (RAMEM ``resnet50-panel``)."""
import torch.nn as nn
from mmdet.models.backbones.resnet import Bottleneck, ResNet
from torch import Tensor

from mmecho.registry import MODELS
from ..layers.panel_attention import Panel


class PanelBottleneck(Bottleneck):
    """First bottleneck of a downsampling stage, with a panel shortcut.

    The 3x3 conv runs at stride 1 (input resolution); the block's downsample
    is a stride-2 :class:`Panel` with global attention that joins the input
    with the bottleneck output. There is no identity add and no final ReLU.

    Shapes: (N, C_in, H, W) -> (N, 4 * planes, H/2, W/2).
    """

    def __init__(self, inplanes: int, planes: int, **kwargs) -> None:
        kwargs.update(stride=1, downsample=None)
        super().__init__(inplanes, planes, **kwargs)
        self.panel = Panel(
            inplanes, planes * self.expansion, stride=2, global_attention=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        return self.panel(x, out)


@MODELS.register_module()
class ResNetPanel(ResNet):
    """mmdet's ResNet whose stride-2 stages start with a PanelBottleneck.

    ``ResNetPanel(depth=50, out_indices=(1, 2, 3))`` gives the reference's
    ``resnet50-panel``: outputs (512, 1024, 2048) channels at strides
    8/16/32. Any input whose sides are multiples of 32. Bottleneck depths
    only (50, 101, 152): the panel block is a bottleneck.
    """

    def __init__(self, depth: int, **kwargs) -> None:
        block = self.arch_settings.get(depth, (Bottleneck, ))[0]
        if not issubclass(block, Bottleneck):
            raise ValueError(
                f'ResNetPanel needs a bottleneck depth (50, 101, 152), got '
                f'{depth}: its stride-2 stages start with a PanelBottleneck')
        super().__init__(depth, **kwargs)

    def make_res_layer(self, **kwargs) -> nn.Sequential:
        if kwargs['stride'] == 1:
            return super().make_res_layer(**kwargs)
        common = dict(
            dilation=kwargs['dilation'],
            style=kwargs['style'],
            with_cp=kwargs['with_cp'],
            conv_cfg=kwargs['conv_cfg'],
            norm_cfg=kwargs['norm_cfg'],
            dcn=kwargs['dcn'],
            plugins=kwargs['plugins'])
        inplanes, planes = kwargs['inplanes'], kwargs['planes']
        block = kwargs['block']
        layers = [PanelBottleneck(inplanes, planes, **common)]
        for _ in range(1, kwargs['num_blocks']):
            layers.append(
                block(planes * block.expansion, planes, stride=1, **common))
        return nn.Sequential(*layers)
