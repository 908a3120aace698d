# Copyright (c) mmecho contributors. All rights reserved.
"""Cubic B-spline transformation model (free-form deformation)."""
from typing import Sequence

#: control-point placements: ``'mmecho'`` (centred blocks, outer rings) and
#: ``'torchir'`` (TorchIR's transposed convolution, paper 001)
BSPLINE_CONVENTIONS = ('mmecho', 'torchir')

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

    The network predicts ``n = ceil(L / S)`` control points along an axis of
    ``L`` pixels; the dense field is
    ``u(y, x) = sum_kl B3((y - p_k) / S) B3((x - p_l) / S) c_kl``,
    computed as two small matrix products (exact, any image size). Where
    the points ``p_k`` sit depends on ``convention``:

    * ``'mmecho'``: ``p_k = (k + 0.5) * S - 0.5`` (the centre of the
      ``k``-th block of ``S`` pixels) for ``k = -2 .. n + 1``; the two outer
      rings copy the border points, so the basis sums to one everywhere in
      the image: a constant control grid gives the same constant field.
    * ``'torchir'`` (paper 001 trained with it): TorchIR's
      ``BsplineTransformer`` (transposed convolution with the sampled cubic
      B-spline, stride ``S``) puts ``p_k = (k + 0.5) * S - 1`` for
      ``k = 0 .. n - 1`` and has no outer points, so the field of a constant
      grid decays towards the border: ``3.0`` in the middle, ``0.75`` at
      the last pixel of both axes (half a spacing beyond the last point,
      ``0.5`` per axis) and about ``0.82`` at pixel ``(0, 0)`` for
      ``S = 32``.

    The transformer is channel-wise: its input and output channels are in
    the same order (mmecho's ``(dy, dx)``); TorchIR's channel order
    (channel 0 = x) is handled by
    :class:`~mmecho.models.registrators.BSplineRegistrationNet`.

    Args:
        grid_spacing (int | tuple): ``S`` in pixels (TorchIR/DLIR: 32).
        convention (str): ``'mmecho'`` (default) or ``'torchir'``.
    """

    def __init__(self, grid_spacing=32, convention: str = 'mmecho') -> None:
        super().__init__()
        if convention not in BSPLINE_CONVENTIONS:
            raise ValueError(f'convention must be one of '
                             f'{BSPLINE_CONVENTIONS}, got {convention!r}')
        self.convention = convention
        if isinstance(grid_spacing, int):
            grid_spacing = (grid_spacing, grid_spacing)
        self.grid_spacing = tuple(int(s) for s in grid_spacing)

    def grid_size(self, size: Sequence[int]) -> tuple:
        """``(ceil(H / Sy), ceil(W / Sx))``: the control grid to predict."""
        return tuple(-(-int(n) // s) for n, s in zip(size, self.grid_spacing))

    def basis(self, length: int, spacing: int, device, dtype) -> torch.Tensor:
        """``(length, n + 4)`` (``'mmecho'``: two outer points per side) or
        ``(length, n)`` (``'torchir'``) interpolation matrix for ``n``
        predicted points."""
        n = -(-length // spacing)
        pix = torch.arange(length, device=device, dtype=dtype)
        if self.convention == 'torchir':
            k = torch.arange(n, device=device, dtype=dtype)
            centres = (k + 0.5) * spacing - 1.0
        else:
            k = torch.arange(-2, n + 2, device=device, dtype=dtype)
            centres = (k + 0.5) * spacing - 0.5
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
        if self.convention == 'torchir':
            padded = control
        else:
            padded = nn.functional.pad(
                control, (2, 2, 2, 2), mode='replicate')
        by = self.basis(H, self.grid_spacing[0], control.device, control.dtype)
        bx = self.basis(W, self.grid_spacing[1], control.device, control.dtype)
        return torch.einsum('yk,bckl,xl->bcyx', by, padded, bx)
