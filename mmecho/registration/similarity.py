# Copyright (c) mmecho contributors. All rights reserved.
"""Image similarity measures for registration.

* :func:`normalized_cross_correlation`: global NCC, one value per sample
  (the papers' libraries differ, see its docstring).
* :func:`local_ncc`: VoxelMorph's default local (windowed, squared) NCC.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F


def normalized_cross_correlation(fixed: torch.Tensor,
                                 moving: torch.Tensor,
                                 mask: Optional[torch.Tensor] = None,
                                 eps: float = 1e-8) -> torch.Tensor:
    """Global normalised cross-correlation, one value per sample.

    ``NCC = sum((f - mean f)(m - mean m)) / sqrt(sum (f - mean f)^2 *
    sum (m - mean m)^2)`` over all pixels (or over ``mask``) of each sample.

    TorchIR's ``NCC`` (paper 001's loss) differs in two ways: it pools the
    whole batch into one value (one mean and one std over all samples'
    pixels), and divides the biased covariance by unbiased standard
    deviations, so its maximum is ``(N - 1) / N`` (``N`` pixels of the
    batch; 0.999996 for one 512 x 512 frame). Per sample, mmecho's value
    does not depend on what else is in the batch; for a batch of one the
    two agree up to that factor. VoxelMorph's default NCC is local, see
    :func:`local_ncc`.

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


def local_ncc(fixed: torch.Tensor,
              moving: torch.Tensor,
              window: Union[int, Sequence[int]] = 9,
              eps: float = 1e-5) -> torch.Tensor:
    """VoxelMorph's local (windowed) NCC, squared, averaged per sample.

    For every pixel, over the ``window`` centred on it (zero padding at the
    image border, as VoxelMorph's convolution with ``padding = win // 2``;
    the padded zeros count as samples of the window):
    ``cross = sum (f - mean f)(m - mean m)``,
    ``var_f = sum (f - mean f)^2``, ``var_m = sum (m - mean m)^2`` and
    ``cc = cross^2 / (var_f * var_m + eps)``; the result is the mean of
    ``cc`` over channels and pixels (VoxelMorph's loss is ``-mean cc``
    over the batch, i.e. the mean of these values).

    Args:
        fixed, moving (Tensor): ``(B, C, H, W)`` images (channels are
            treated independently; VoxelMorph uses ``C = 1``).
        window (int | tuple): Odd window side(s) in pixels (VoxelMorph: 9).
        eps (float): Added to ``var_f * var_m`` (VoxelMorph: 1e-5).

    Returns:
        Tensor: ``(B,)`` in ``[0, 1)``: close to 1 where both images are
        textured and related linearly (either sign), 0 in flat regions.
    """
    if fixed.shape != moving.shape:
        raise ValueError(f'fixed {tuple(fixed.shape)} and moving '
                         f'{tuple(moving.shape)} differ')
    if fixed.dim() != 4:
        raise ValueError('expected (B, C, H, W) images, got '
                         f'{tuple(fixed.shape)}')
    win = (window, window) if isinstance(window, int) else tuple(window)
    if len(win) != 2 or any(w < 1 or w % 2 == 0 for w in win):
        raise ValueError(f'window must be odd, got {window!r}')
    b, c = fixed.shape[:2]
    n = float(win[0] * win[1])
    kernel = fixed.new_ones((c, 1) + win)
    pad = (win[0] // 2, win[1] // 2)

    def box(x):
        return F.conv2d(x, kernel, padding=pad, groups=c)

    f_sum, m_sum = box(fixed), box(moving)
    f2_sum = box(fixed * fixed)
    m2_sum = box(moving * moving)
    fm_sum = box(fixed * moving)
    cross = fm_sum - f_sum * m_sum / n
    f_var = f2_sum - f_sum * f_sum / n
    m_var = m2_sum - m_sum * m_sum / n
    cc = cross * cross / (f_var * m_var + eps)
    return cc.reshape(b, -1).mean(1)
