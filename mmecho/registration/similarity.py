# Copyright (c) mmecho contributors. All rights reserved.
"""Image similarity measures for registration."""
from typing import Optional

import torch


def normalized_cross_correlation(fixed: torch.Tensor,
                                 moving: torch.Tensor,
                                 mask: Optional[torch.Tensor] = None,
                                 eps: float = 1e-8) -> torch.Tensor:
    """Global normalised cross-correlation per sample (DLIR/TorchIR's NCC).

    ``NCC = sum((f - mean f)(m - mean m)) / sqrt(sum (f - mean f)^2 *
    sum (m - mean m)^2)`` over all pixels (or over ``mask``).

    Args:
        fixed, moving (Tensor): ``(B, C, H, W)`` images.
        mask (Tensor, optional): ``(B, 1, H, W)`` weights in ``[0, 1]``.
        eps (float): Added to the denominator (constant images give 0).

    Returns:
        Tensor: ``(B,)`` in ``[-1, 1]``; 1 for identical images and for any
        ``moving = a * fixed + b`` with ``a > 0``.
    """
    if fixed.shape != moving.shape:
        raise ValueError(f'fixed {tuple(fixed.shape)} and moving '
                         f'{tuple(moving.shape)} differ')
    b = fixed.shape[0]
    f = fixed.reshape(b, -1)
    m = moving.reshape(b, -1)
    if mask is None:
        w = torch.ones_like(f)
    else:
        w = mask.expand_as(fixed).reshape(b, -1).to(f.dtype)
    n = w.sum(1, keepdim=True).clamp_min(eps)
    fc = f - (w * f).sum(1, keepdim=True) / n
    mc = m - (w * m).sum(1, keepdim=True) / n
    num = (w * fc * mc).sum(1)
    den = torch.sqrt((w * fc * fc).sum(1) * (w * mc * mc).sum(1)) + eps
    return num / den
