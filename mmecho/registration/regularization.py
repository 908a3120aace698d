# Copyright (c) mmecho contributors. All rights reserved.
"""Smoothness penalties of a ``(B, 2, H, W)`` displacement field (pixels).

Both follow the library the paper trained with, so the papers' weights
carry over unchanged:

* :func:`bending_energy` is TorchIR's ``bending_energy_2d`` (paper 001,
  DLIR): forward differences, the mean over the two components and over
  the ``(H-2) x (W-2)`` positions.
* :func:`diffusion_energy` is VoxelMorph's / neurite's ``Grad('l2')``
  (paper 003): the squared forward differences along each axis, each
  averaged over the components and its own positions, then averaged over
  the two axes.

Both are zero for a constant field and the bending energy is zero for an
affine field. The channel order (mmecho's ``(dy, dx)`` or TorchIR's
``(dx, dy)``) does not change either value.
"""
import torch


def _check(disp: torch.Tensor) -> None:
    if disp.dim() != 4 or disp.shape[1] != 2:
        raise ValueError('expected a (B, 2, H, W) displacement, got '
                         f'{tuple(disp.shape)}')


def bending_energy(disp: torch.Tensor) -> torch.Tensor:
    """Thin-plate bending energy per sample, TorchIR's definition.

    ``mean_{c, y, x} (u_yy^2 + u_xx^2 + 2 u_xy^2)`` with TorchIR's forward
    differences ``u_yy = u[y+2, x] - 2 u[y+1, x] + u[y, x]``,
    ``u_xx = u[y, x+2] - 2 u[y, x+1] + u[y, x]``,
    ``u_xy = u[y+1, x+1] - u[y+1, x] - u[y, x+1] + u[y, x]`` for
    ``y < H-2, x < W-2``, averaged (not summed) over the two components.

    Args:
        disp (Tensor): ``(B, 2, H, W)`` displacement in pixels, ``H, W >= 3``.

    Returns:
        Tensor: ``(B,)`` in pixels^-2 x pixels^2 (= pixels^-2 of a field in
        pixels). Zero for affine fields; ``2 a^2`` for ``u_x = a x^2``
        (``u_y = 0``); ``a^2`` for ``u_x = a x y``. Before issue 14 mmecho
        summed the components (twice these values on quadratic fields).
    """
    _check(disp)
    d_y = torch.diff(disp, dim=2)
    d_x = torch.diff(disp, dim=3)
    d_yy = torch.diff(d_y, dim=2)[:, :, :, :-2]
    d_yx = torch.diff(d_y, dim=3)[:, :, :-1, :-1]
    d_xx = torch.diff(d_x, dim=3)[:, :, :-2, :]
    e = d_yy**2 + d_xx**2 + 2 * d_yx**2
    return e.flatten(1).mean(1)


def diffusion_energy(disp: torch.Tensor) -> torch.Tensor:
    """Mean squared gradient per sample, VoxelMorph's ``Grad('l2')``.

    ``(mean_{c,y,x} (u[y+1, x] - u[y, x])^2 +
    mean_{c,y,x} (u[y, x+1] - u[y, x])^2) / 2``: each axis's squared
    forward differences are averaged over the components and all of their
    own positions (``(H-1) x W`` and ``H x (W-1)``), then the two axes are
    averaged (neurite/VoxelMorph, ``loss_mult=None``).

    Args:
        disp (Tensor): ``(B, 2, H, W)`` displacement in pixels.

    Returns:
        Tensor: ``(B,)``, pixels^2 per pixel^2 (dimensionless). Zero for a
        constant field; ``a^2 / 4`` for ``u_x = a x`` (``u_y = 0``). Before
        issue 14 mmecho summed components and directions (4 x these).
    """
    _check(disp)
    dy = torch.diff(disp, dim=2)
    dx = torch.diff(disp, dim=3)
    return 0.5 * ((dy**2).flatten(1).mean(1) + (dx**2).flatten(1).mean(1))
