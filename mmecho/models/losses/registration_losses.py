# Copyright (c) mmecho contributors. All rights reserved.
"""Loss modules of unsupervised registration (similarity + smoothness).

Thin registered wrappers of :mod:`mmecho.registration` so that configs read
``loss_similarity=dict(type='NCCLoss')``,
``loss_regularization=dict(type='BendingEnergyLoss', loss_weight=1.0)``.
The penalties follow the papers' libraries (bending energy: TorchIR,
paper 001; diffusion: VoxelMorph's ``Grad('l2')``, paper 003), so the
papers' weights mean what they meant there.
"""
import torch
import torch.nn as nn

from mmecho.registration import (bending_energy, diffusion_energy,
                                 local_ncc, normalized_cross_correlation)
from mmecho.registry import MODELS


@MODELS.register_module()
class NCCLoss(nn.Module):
    """Negative global NCC, ``-mean_b NCC(fixed_b, warped_b)`` (in
    ``[-1, 1]``, -1 for a perfect match). ``(B, C, H, W)`` images.

    NCC per sample, then the batch mean; TorchIR's ``NCC`` (paper 001)
    pools the whole batch into one correlation and uses unbiased standard
    deviations (see
    :func:`~mmecho.registration.normalized_cross_correlation`)."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, fixed: torch.Tensor,
                warped: torch.Tensor) -> torch.Tensor:
        return -self.loss_weight * normalized_cross_correlation(fixed,
                                                                warped).mean()


@MODELS.register_module()
class LocalNCCLoss(nn.Module):
    """VoxelMorph's default similarity: ``-mean`` of the squared local NCC
    over ``window x window`` windows (:func:`~mmecho.registration.local_ncc`;
    in ``(-1, 0]``, about -1 for a perfect match of textured images).

    Args:
        window (int | tuple): Odd window side(s) in pixels (VoxelMorph: 9).
        eps (float): VoxelMorph's 1e-5 in the denominator.
        loss_weight (float): Multiplier.
    """

    def __init__(self,
                 window=9,
                 eps: float = 1e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.window = window
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, fixed: torch.Tensor,
                warped: torch.Tensor) -> torch.Tensor:
        return -self.loss_weight * local_ncc(
            fixed, warped, window=self.window, eps=self.eps).mean()


@MODELS.register_module()
class BendingEnergyLoss(nn.Module):
    """``loss_weight x`` mean bending energy of a ``(B, 2, H, W)`` field in
    pixels, TorchIR's definition (mean over components; DLIR's penalty,
    ``alpha = 1.0`` in paper 001)."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, disp: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * bending_energy(disp).mean()


@MODELS.register_module()
class DiffusionLoss(nn.Module):
    """``loss_weight x`` mean squared gradient of a ``(B, 2, H, W)`` field
    in pixels, VoxelMorph's ``Grad('l2')`` (mean over components and
    directions)."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, disp: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * diffusion_energy(disp).mean()
