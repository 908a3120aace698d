# Copyright (c) mmecho contributors. All rights reserved.
"""VoxelMorph's ``VxmDense`` in 2D and the registrator that trains it as
VoxelMorph's scripts do (regulariser on the pre-integration field).

Follows ``voxelmorph/torch/networks.py`` (``Unet``, ``VxmDense``) and
``voxelmorph/torch/layers.py`` (``VecInt``, ``ResizeTransform``) of
https://github.com/voxelmorph/voxelmorph; defaults and their sources:
``docs/registration.md`` ("Paper 003's VoxelMorph").
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmecho.registration import integrate_velocity
from mmecho.registry import MODELS
from .pairwise_registrator import PairwiseRegistrator


def _conv_block(in_ch: int, out_ch: int) -> nn.Sequential:
    """VoxelMorph's ``ConvBlock``: 3x3 conv, stride 1, + LeakyReLU(0.2)."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, 1, 1), nn.LeakyReLU(0.2))


def resize_flow(flow: torch.Tensor, factor: float,
                size: Optional[Sequence[int]] = None) -> torch.Tensor:
    """VoxelMorph's ``ResizeTransform``: bilinear resize (``align_corners``)
    by ``factor`` and multiply the vectors by ``factor`` (down: resize
    first; up: multiply first). ``size`` fixes the output size (the
    full-resolution one when going back up)."""
    if factor == 1:
        return flow
    if size is None:
        size = [int(s * factor) for s in flow.shape[2:]]
    if factor < 1:
        out = F.interpolate(
            flow, size=tuple(size), mode='bilinear', align_corners=True)
        return factor * out
    return F.interpolate(
        factor * flow, size=tuple(size), mode='bilinear', align_corners=True)


@MODELS.register_module()
class VoxelMorphUNet(nn.Module):
    """VoxelMorph ``VxmDense`` in 2D (Balakrishnan et al. 2019; Dalca et al.
    2019 for the diffeomorphic model).

    U-Net as VoxelMorph's ``Unet`` (``nb_conv_per_level=1``): encoder level
    ``i`` = 3x3 stride-1 conv (``enc_channels[i]``) + LeakyReLU(0.2), then
    2x2 max-pool; decoder level ``i`` = conv (``dec_channels[i]``), nearest
    upsampling x2, concatenation with encoder level ``n-1-i``'s output; the
    remaining ``dec_channels[n:]`` convs at full resolution; a 3x3 flow conv
    initialised ``Normal(0, 1e-5)``, bias 0. With the default features this
    is 109,170 parameters, as VoxelMorph's 2D ``VxmDense``.

    The flow is a stationary velocity when ``integration_steps > 0``:
    resized by ``1 / int_downsize`` (``ResizeTransform``), integrated by
    scaling and squaring (``integration_steps``, ``VecInt``), resized back
    to full resolution. ``integration_steps=0`` predicts the displacement
    directly (no resizing, as ``VxmDense``).

    After each call, :attr:`preint_flow` holds the field VoxelMorph's
    training scripts regularise (the resized velocity before integration;
    the flow itself without integration).

    Differences from VoxelMorph: the fixed/moving inputs are passed as
    ``(fixed, moving)`` (concatenated as VoxelMorph's ``[source,
    target]`` = ``[moving, fixed]``); fields are ``(dy, dx)`` pixels as
    everywhere in :mod:`mmecho.registration` (VoxelMorph's channel ``i`` is
    the displacement along dimension ``i``, i.e. the same); by default the
    squaring steps resample with ``border`` padding (VoxelMorph: zeros),
    which only differs where ``x + u(x)`` leaves the image;
    ``integration_padding='zeros'`` computes VoxelMorph's ``VecInt``
    exactly (the setting for weights converted from VoxelMorph,
    ``configs/mnms/voxelmorph_mnms_vxm-weights.py``).

    Shapes:
        ``fixed, moving (B, C, H, W)`` (``H``, ``W`` multiples of
        ``2 ** len(enc_channels)``) -> ``(B, 2, H, W)`` pixels.
    """

    def __init__(self,
                 in_channels: int = 1,
                 enc_channels: Sequence[int] = (16, 32, 32, 32),
                 dec_channels: Sequence[int] = (32, 32, 32, 32, 32, 16, 16),
                 integration_steps: int = 7,
                 int_downsize: int = 2,
                 integration_padding: str = 'border') -> None:
        super().__init__()
        n = len(enc_channels)
        if len(dec_channels) < n:
            raise ValueError('dec_channels needs at least one entry per '
                             'encoder level')
        if integration_steps < 0 or int_downsize < 1:
            raise ValueError('integration_steps must be >= 0 and '
                             'int_downsize >= 1')
        if integration_padding not in ('border', 'zeros'):
            raise ValueError("integration_padding must be 'border' "
                             "(mmecho's default) or 'zeros' (VoxelMorph's "
                             f'VecInt), not {integration_padding!r}')
        ch, skips = 2 * in_channels, []
        self.encoder = nn.ModuleList()
        for c in enc_channels:
            self.encoder.append(_conv_block(ch, c))
            ch = c
            skips.append(c)
        self.decoder = nn.ModuleList()
        for c in dec_channels[:n]:
            self.decoder.append(_conv_block(ch, c))
            ch = c + skips.pop()
        self.remaining = nn.ModuleList()
        for c in dec_channels[n:]:
            self.remaining.append(_conv_block(ch, c))
            ch = c
        self.flow = nn.Conv2d(ch, 2, 3, padding=1)
        nn.init.normal_(self.flow.weight, mean=0.0, std=1e-5)
        nn.init.zeros_(self.flow.bias)
        self.levels = n
        self.integration_steps = int(integration_steps)
        self.int_downsize = int(int_downsize)
        self.integration_padding = integration_padding
        self.preint_flow: Optional[torch.Tensor] = None

    def velocity(self, fixed: torch.Tensor,
                 moving: torch.Tensor) -> torch.Tensor:
        """The U-Net + flow conv output at full resolution."""
        div = 2**self.levels
        if fixed.shape[2] % div or fixed.shape[3] % div:
            raise ValueError(f'image size {tuple(fixed.shape[2:])} must be a '
                             f'multiple of {div}')
        x = torch.cat([moving, fixed], 1)
        history = []
        for conv in self.encoder:
            x = conv(x)
            history.append(x)
            x = F.max_pool2d(x, 2)
        for conv in self.decoder:
            x = conv(x)
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = torch.cat([x, history.pop()], 1)
        for conv in self.remaining:
            x = conv(x)
        return self.flow(x)

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        flow = self.velocity(fixed, moving)
        if self.integration_steps == 0:
            self.preint_flow = flow
            return flow
        size = flow.shape[2:]
        vel = resize_flow(flow, 1.0 / self.int_downsize)
        self.preint_flow = vel
        disp = integrate_velocity(vel, self.integration_steps,
                                  self.integration_padding)
        return resize_flow(disp, float(self.int_downsize), size)


@MODELS.register_module()
class VoxelMorphRegistrator(PairwiseRegistrator):
    """:class:`PairwiseRegistrator` whose ``loss_regularization`` sees the
    network's pre-integration field (``network.preint_flow``), as
    VoxelMorph's training scripts (``VxmDense`` returns ``preint_flow`` for
    the ``Grad`` loss; TF ``reg_field='preintegrated'``). With
    ``int_downsize = 2`` that field lives on the half-resolution grid, hence
    VoxelMorph's ``Grad(loss_mult=int_downsize)``: put the factor into
    ``loss_weight``. Networks without ``preint_flow`` are regularised on the
    displacement, as :class:`PairwiseRegistrator`.
    """

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[dict] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        out = super().forward(inputs, data_samples, mode)
        preint = getattr(self.network, 'preint_flow', None)
        if mode == 'loss' and preint is not None:
            out['loss_reg'] = self.loss_regularization(preint)
        if hasattr(self.network, 'preint_flow'):
            self.network.preint_flow = None  # do not keep the graph alive
        return out
