# Copyright (c) mmecho contributors. All rights reserved.
"""DIRNet-style network predicting B-spline control-point displacements."""
import math

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmecho.registration import BSplineTransformer
from mmecho.registry import MODELS


@MODELS.register_module()
class BSplineRegistrationNet(nn.Module):
    """DLIR's deformable ConvNet (de Vos et al. 2019; TorchIR ``DIRNet``).

    The fixed and moving images are concatenated, ``log2(grid_spacing)``
    blocks of two 3x3 convolutions each halve the resolution, and a 1x1
    convolution outputs the ``(dy, dx)`` displacement (pixels) of every
    control point, one per ``grid_spacing`` pixels; a cubic B-spline
    (:class:`~mmecho.registration.BSplineTransformer`) makes the dense
    field.

    ``convention`` selects paper 001's library conventions:

    * ``'torchir'``: TorchIR's control-point placement (``(k + 0.5) S - 1``,
      no outer rings; see :class:`~mmecho.registration.BSplineTransformer`)
      and TorchIR's channel order: the head's channel 0 is the x (column)
      displacement, channel 1 the y (row) displacement, as TorchIR's DIRNet
      output and coordinate grids. The two channels are swapped before the
      B-spline, so the returned field is mmecho's ``(dy, dx)`` like every
      other model's and ``warp`` / ``compose`` / propagation downstream are
      unchanged.
    * ``'mmecho'`` (default, what checkpoints from before issue 14 were
      trained with): centred control points with two replicated outer
      rings, head channels ``(dy, dx)``.

    A checkpoint only makes sense with the convention it was trained with.

    Args:
        grid_spacing (int): Control-point spacing in pixels, a power of 2
            (paper 001: 32).
        kernels (int): Channels of every convolution (paper 001: 32).
        in_channels (int): Channels per image (1 for B-mode).
        norm_cfg (dict, optional): Normalisation (DLIR uses none).
        convention (str): ``'mmecho'`` or ``'torchir'`` (paper 001's
            configs).

    Shapes:
        ``fixed, moving (B, C, H, W)`` -> ``(B, 2, H, W)`` pixels, ``(dy, dx)``
        in either convention.
    """

    def __init__(self,
                 grid_spacing: int = 32,
                 kernels: int = 32,
                 in_channels: int = 1,
                 norm_cfg=None,
                 convention: str = 'mmecho') -> None:
        super().__init__()
        levels = math.log2(grid_spacing)
        if grid_spacing < 2 or levels != int(levels):
            raise ValueError('grid_spacing must be a power of 2 >= 2, got '
                             f'{grid_spacing}')
        act = dict(type='LeakyReLU', negative_slope=0.2)
        layers, ch = [], 2 * in_channels
        for _ in range(int(levels)):
            layers += [
                ConvModule(
                    ch, kernels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act),
                ConvModule(
                    kernels,
                    kernels,
                    3,
                    stride=2,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=act)
            ]
            ch = kernels
        layers.append(
            ConvModule(
                ch, kernels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act))
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(kernels, 2, 1)
        nn.init.normal_(self.head.weight, std=1e-5)
        nn.init.zeros_(self.head.bias)
        self.convention = convention
        self.transformer = BSplineTransformer(grid_spacing, convention)

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        size = fixed.shape[2:]
        control = self.head(self.features(torch.cat([fixed, moving], 1)))
        expect = self.transformer.grid_size(size)
        if tuple(control.shape[2:]) != expect:
            raise ValueError(f'image size {tuple(size)} gives a control grid '
                             f'{tuple(control.shape[2:])}, expected {expect}')
        if self.convention == 'torchir':
            # TorchIR's channel 0 is x: to mmecho's (dy, dx)
            control = control.flip(1)
        # control displacements are predicted in units of the grid spacing
        scale = control.new_tensor(self.transformer.grid_spacing).view(
            1, 2, 1, 1)
        return self.transformer(control * scale, size)
