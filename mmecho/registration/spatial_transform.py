# Copyright (c) mmecho contributors. All rights reserved.
"""Dense displacement fields: warping, composition and resizing.

Convention used everywhere in :mod:`mmecho.registration`: a displacement
field ``u`` is a ``(B, 2, H, W)`` float tensor in **pixels** of the image
it is defined on, channel 0 the row (y) and channel 1 the column (x)
component. Warping a moving image ``m`` with ``u`` gives
``(m o phi)(x) = m(x + u(x))``, i.e. ``u`` maps fixed-image coordinates to
moving-image coordinates (a backward map, as VoxelMorph and TorchIR use).
"""
from typing import Sequence

import torch
import torch.nn.functional as F

from .errors import check_finite


def _sampling_grid(disp: torch.Tensor) -> torch.Tensor:
    """``(B, H, W, 2)`` grid_sample coordinates (x, y in [-1, 1],
    ``align_corners=True``) of the points ``x + u(x)``."""
    b, _, h, w = disp.shape
    ys = torch.arange(h, dtype=disp.dtype, device=disp.device)
    xs = torch.arange(w, dtype=disp.dtype, device=disp.device)
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    py = gy[None] + disp[:, 0]
    px = gx[None] + disp[:, 1]
    ny = 2.0 * py / max(h - 1, 1) - 1.0
    nx = 2.0 * px / max(w - 1, 1) - 1.0
    return torch.stack([nx, ny], dim=-1)


def warp(image: torch.Tensor,
         disp: torch.Tensor,
         mode: str = 'bilinear',
         padding_mode: str = 'border') -> torch.Tensor:
    """Resample ``image`` at ``x + disp(x)``.

    Args:
        image (Tensor): ``(B, C, H, W)`` moving image (or one-hot labels).
        disp (Tensor): ``(B, 2, H, W)`` displacement in pixels (dy, dx).
        mode (str): ``'bilinear'`` or ``'nearest'``.
        padding_mode (str): grid_sample padding outside the image.

    Returns:
        Tensor: ``(B, C, H, W)``; the identity field (zeros) returns
        ``image`` unchanged.

    Raises:
        NonFiniteError: ``disp`` has a NaN or infinite value (checked before
            grid_sample: its backward through a NaN grid crashes the
            process with SIGSEGV on torch 2.13 CPU).
    """
    if image.shape[0] != disp.shape[0] or image.shape[2:] != disp.shape[2:]:
        raise ValueError(f'image {tuple(image.shape)} and displacement '
                         f'{tuple(disp.shape)} must share batch and size')
    check_finite(disp.detach(), 'displacement field passed to warp()')
    grid = _sampling_grid(disp.to(image.dtype))
    return F.grid_sample(
        image, grid, mode=mode, padding_mode=padding_mode, align_corners=True)


def compose(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Displacement of the composed map ``x -> y(x) = x + second(x)``
    followed by ``first``: ``u(x) = second(x) + first(x + second(x))``.

    Warping with the result equals warping with ``first`` and then with
    ``second`` (up to interpolation), so a label map carried from frame 0
    to frame t (``first``) and then to t+1 (``second``) is resampled once.
    Both ``(B, 2, H, W)`` in pixels.
    """
    return second + warp(first, second, padding_mode='border')


def resize_displacement(disp: torch.Tensor,
                        size: Sequence[int]) -> torch.Tensor:
    """Resample a ``(B, 2, h, w)`` field to ``size = (H, W)`` and rescale its
    components to pixels of the new grid (corner-aligned, like
    :func:`warp`)."""
    h, w = disp.shape[2:]
    H, W = int(size[0]), int(size[1])
    if (h, w) == (H, W):
        return disp
    out = F.interpolate(disp, size=(H, W), mode='bilinear', align_corners=True)
    sy = (H - 1) / max(h - 1, 1)
    sx = (W - 1) / max(w - 1, 1)
    return torch.cat([out[:, :1] * sy, out[:, 1:] * sx], dim=1)


def integrate_velocity(velocity: torch.Tensor,
                       steps: int,
                       padding_mode: str = 'border') -> torch.Tensor:
    """Scaling and squaring of a stationary velocity field (VoxelMorph's
    diffeomorphic integration): ``u = v / 2**steps``, then ``steps`` times
    ``u <- u + u o (x + u)``. ``(B, 2, H, W)`` in pixels.

    ``padding_mode`` is the value of ``u`` sampled outside the image:
    ``'border'`` (mmecho's default) repeats the edge, ``'zeros'`` is
    VoxelMorph's ``VecInt`` (its ``SpatialTransformer`` uses grid_sample's
    default); the two differ only where ``x + u(x)`` leaves the image."""
    disp = velocity / (2**steps)
    for _ in range(steps):
        disp = disp + warp(disp, disp, padding_mode=padding_mode)
    return disp
