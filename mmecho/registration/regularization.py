# Copyright (c) mmecho contributors. All rights reserved.
"""Smoothness penalties of a ``(B, 2, H, W)`` displacement field (pixels).

Derivatives are finite differences on the pixel grid (unit spacing), inner
pixels only, so an affine field has exactly zero bending energy and a
constant field zero diffusion energy.
"""
import torch


def _second_derivatives(disp: torch.Tensor):
    """Central second differences on the inner pixels:
    ``(u_yy, u_xx, u_xy)``, each ``(B, 2, H-2, W-2)``."""
    c = disp[:, :, 1:-1, 1:-1]
    u_yy = disp[:, :, 2:, 1:-1] - 2 * c + disp[:, :, :-2, 1:-1]
    u_xx = disp[:, :, 1:-1, 2:] - 2 * c + disp[:, :, 1:-1, :-2]
    u_xy = 0.25 * (
        disp[:, :, 2:, 2:] - disp[:, :, 2:, :-2] - disp[:, :, :-2, 2:] +
        disp[:, :, :-2, :-2])
    return u_yy, u_xx, u_xy


def bending_energy(disp: torch.Tensor) -> torch.Tensor:
    """Mean thin-plate bending energy per sample,
    ``mean_x sum_c (u_yy^2 + u_xx^2 + 2 u_xy^2)``: ``(B,)``, pixels^-2 x
    pixels^2. Zero for affine fields; ``4 a^2`` for ``u = a x^2`` in one
    component."""
    if disp.dim() != 4 or disp.shape[1] != 2:
        raise ValueError('expected a (B, 2, H, W) displacement, got '
                         f'{tuple(disp.shape)}')
    u_yy, u_xx, u_xy = _second_derivatives(disp)
    e = u_yy**2 + u_xx**2 + 2 * u_xy**2
    return e.sum(1).flatten(1).mean(1)


def diffusion_energy(disp: torch.Tensor) -> torch.Tensor:
    """Mean squared gradient per sample (VoxelMorph's ``Grad('l2')``
    summed over components): ``mean_x sum_c |grad u_c|^2``, ``(B,)``."""
    if disp.dim() != 4 or disp.shape[1] != 2:
        raise ValueError('expected a (B, 2, H, W) displacement, got '
                         f'{tuple(disp.shape)}')
    dy = disp[:, :, 1:, :-1] - disp[:, :, :-1, :-1]
    dx = disp[:, :, :-1, 1:] - disp[:, :, :-1, :-1]
    return (dy**2 + dx**2).sum(1).flatten(1).mean(1)
