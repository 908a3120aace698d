# Copyright (c) mmecho contributors. All rights reserved.
"""Loss modules of unsupervised registration (similarity + smoothness).

Thin registered wrappers of :mod:`mmecho.registration` so that configs read
``loss_similarity=dict(type='NCCLoss')``,
``loss_regularization=dict(type='BendingEnergyLoss', loss_weight=1.0)``.
"""
import torch
import torch.nn as nn

from mmecho.registration import (bending_energy, diffusion_energy,
                                 normalized_cross_correlation)
from mmecho.registry import MODELS


@MODELS.register_module()
class NCCLoss(nn.Module):
    """Negative global NCC, ``-mean_b NCC(fixed_b, warped_b)`` (in
    ``[-1, 1]``, -1 for a perfect match). ``(B, C, H, W)`` images."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, fixed: torch.Tensor,
                warped: torch.Tensor) -> torch.Tensor:
        return -self.loss_weight * normalized_cross_correlation(fixed,
                                                                warped).mean()


@MODELS.register_module()
class BendingEnergyLoss(nn.Module):
    """``loss_weight x`` mean bending energy of a ``(B, 2, H, W)`` field in
    pixels (DLIR's penalty; ``alpha = 1.0`` in paper 001)."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, disp: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * bending_energy(disp).mean()


@MODELS.register_module()
class DiffusionLoss(nn.Module):
    """``loss_weight x`` mean squared gradient of a ``(B, 2, H, W)`` field
    in pixels (VoxelMorph's ``Grad('l2')`` smoothness)."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, disp: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * diffusion_energy(disp).mean()
