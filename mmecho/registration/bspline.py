# Copyright (c) mmecho contributors. All rights reserved.
"""Cubic B-spline transformation model (free-form deformation)."""
from typing import Sequence

import torch
import torch.nn as nn


def cubic_bspline(u: torch.Tensor) -> torch.Tensor:
    """The centred cubic B-spline basis ``B3(u)``, support ``|u| < 2``."""
    a = u.abs()
    out = torch.zeros_like(a)
    inner = a < 1
    outer = (a >= 1) & (a < 2)
    out[inner] = 2.0 / 3.0 - a[inner]**2 + 0.5 * a[inner]**3
    out[outer] = (2.0 - a[outer])**3 / 6.0
    return out


class BSplineTransformer(nn.Module):
    """Dense displacement from a grid of B-spline control-point displacements.

    Control point ``k`` along an axis of ``L`` pixels sits at pixel
    ``(k + 0.5) * S - 0.5`` (the centre of the ``k``-th block of ``S``
    pixels), ``k = -2 .. ceil(L / S) + 1``: the network predicts the
    ``ceil(L / S)`` inner points and the two outer rings copy the border
    ones, so the basis sums to one everywhere in the image (a constant
    control grid gives the same constant field). The
    dense field is ``u(y, x) = sum_kl B3(y/S - k') B3(x/S - l') c_kl``,
    computed as two small matrix products (exact, any image size).

    Args:
        grid_spacing (int | tuple): ``S`` in pixels (TorchIR/DLIR: 32).
    """

    def __init__(self, grid_spacing=32) -> None:
        super().__init__()
        if isinstance(grid_spacing, int):
            grid_spacing = (grid_spacing, grid_spacing)
        self.grid_spacing = tuple(int(s) for s in grid_spacing)

    def grid_size(self, size: Sequence[int]) -> tuple:
        """``(ceil(H / Sy), ceil(W / Sx))``: the control grid to predict."""
        return tuple(-(-int(n) // s) for n, s in zip(size, self.grid_spacing))

    def basis(self, length: int, spacing: int, device, dtype) -> torch.Tensor:
        """``(length, n + 4)`` interpolation matrix for ``n`` inner points."""
        n = -(-length // spacing)
        pix = torch.arange(length, device=device, dtype=dtype)
        centres = (torch.arange(-2, n + 2, device=device, dtype=dtype) +
                   0.5) * spacing - 0.5
        return cubic_bspline((pix[:, None] - centres[None]) / spacing)

    def forward(self, control: torch.Tensor,
                size: Sequence[int]) -> torch.Tensor:
        """``(B, 2, h, w)`` control displacements (pixels) -> ``(B, 2, H, W)``
        dense displacement (pixels) for ``size = (H, W)``."""
        H, W = int(size[0]), int(size[1])
        expect = self.grid_size((H, W))
        if tuple(control.shape[2:]) != expect:
            raise ValueError(f'control grid {tuple(control.shape[2:])} does '
                             f'not match {expect} for an image of {(H, W)} '
                             f'and grid spacing {self.grid_spacing}')
        padded = nn.functional.pad(control, (2, 2, 2, 2), mode='replicate')
        by = self.basis(H, self.grid_spacing[0], control.device, control.dtype)
        bx = self.basis(W, self.grid_spacing[1], control.device, control.dtype)
        return torch.einsum('yk,bckl,xl->bcyx', by, padded, bx)
