# Copyright (c) mmecho contributors. All rights reserved.
"""Propagating ED / ES label maps through a sequence with registration.

Forward: the ED labels (frame 0) are carried to frame ``t+1`` with the field
of the pair (fixed ``t+1``, moving ``t``), chained through the sequence;
backward: the ES labels (frame ``T-1``) are carried to frame ``t`` with the
pair (fixed ``t``, moving ``t+1``). Instead of resampling the label map at
every step (which blurs it ``T`` times), the consecutive fields are composed
(:func:`~mmecho.registration.spatial_transform.compose`) and the one-hot ED
or ES map is resampled once per frame, bilinearly, then ``argmax``. All
fields of a sequence are predicted in batches, and all frames are warped in
one batched ``grid_sample``; nothing loops over pixels in Python.
``strategy='fixed'`` registers every frame directly to ED (ES) instead.
"""
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .bidirectional_fusion import fuse_bidirectional
from .spatial_transform import compose, resize_displacement, warp

#: ``fields_fn(fixed, moving) -> disp``: ``(N, 1, h, w)`` float images in
#: [0, 1] to ``(N, 2, h, w)`` displacements (pixels of h x w).
FieldFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

MODES = ('forward', 'backward', 'bidirectional')


def _prepare(frames: np.ndarray, size: Optional[Sequence[int]],
             device) -> torch.Tensor:
    x = torch.as_tensor(np.ascontiguousarray(frames), dtype=torch.float32)
    x = (x / 255.0)[:, None].to(device)
    if size is not None and tuple(x.shape[2:]) != tuple(size):
        x = F.interpolate(x, size=tuple(size), mode='area')
    return x


def _batched_fields(fields_fn: FieldFn, fixed: torch.Tensor,
                    moving: torch.Tensor, batch_size: int) -> torch.Tensor:
    out = []
    for i in range(0, fixed.shape[0], batch_size):
        out.append(
            fields_fn(fixed[i:i + batch_size], moving[i:i + batch_size]))
    return torch.cat(out)


def _carry(label: np.ndarray, disps: torch.Tensor, num_classes: int,
           chunk: int) -> np.ndarray:
    """Warp one ``(H, W)`` label map with every ``(T, 2, H, W)`` field."""
    onehot = F.one_hot(
        torch.as_tensor(label.astype(np.int64), device=disps.device),
        num_classes).permute(2, 0, 1)[None].float()
    out = []
    for i in range(0, disps.shape[0], chunk):
        d = disps[i:i + chunk]
        soft = warp(onehot.expand(d.shape[0], -1, -1, -1), d)
        out.append(soft.argmax(1).to(torch.uint8).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def propagation_fields(fields_fn: FieldFn,
                       frames: np.ndarray,
                       direction: str,
                       size: Optional[Sequence[int]] = None,
                       strategy: str = 'sequential',
                       batch_size: int = 8,
                       device='cpu') -> torch.Tensor:
    """Fields carrying frame 0 (``'forward'``) or frame ``T-1``
    (``'backward'``) to every frame.

    Args:
        fields_fn (callable): The registration model, see ``FieldFn``.
        frames (ndarray): ``(T, H, W)`` uint8 sequence, ED first, ES last.
        direction (str): ``'forward'`` or ``'backward'``.
        size (tuple, optional): ``(h, w)`` the model works at; fields are
            returned at the frames' ``(H, W)`` in any case.
        strategy (str): ``'sequential'`` (compose consecutive pairs) or
            ``'fixed'`` (register each frame to the labelled one).

    Returns:
        Tensor: ``(T, 2, H, W)`` displacements (pixels); the labelled frame
        gets the zero field.
    """
    if direction not in ('forward', 'backward'):
        raise ValueError(f"direction must be 'forward' or 'backward', got "
                         f'{direction!r}')
    if strategy not in ('sequential', 'fixed'):
        raise ValueError("strategy must be 'sequential' or 'fixed', got "
                         f'{strategy!r}')
    T, H, W = frames.shape
    x = _prepare(frames, size, device)
    if direction == 'backward':
        x = x.flip(0)
    h, w = x.shape[2:]
    zero = x.new_zeros(1, 2, h, w)
    if T == 1:
        return x.new_zeros(1, 2, H, W)
    if strategy == 'fixed':
        step = _batched_fields(fields_fn, x[1:],
                               x[:1].expand(T - 1, -1, -1, -1), batch_size)
        total = torch.cat([zero, step])
    else:
        step = _batched_fields(fields_fn, x[1:], x[:-1], batch_size)
        total = [zero]
        for t in range(T - 1):
            total.append(compose(total[-1], step[t:t + 1]))
        total = torch.cat(total)
    total = resize_displacement(total, (H, W))
    if direction == 'backward':
        total = total.flip(0)
    return total


def propagate_labels(fields_fn: FieldFn,
                     frames: np.ndarray,
                     ed_label: np.ndarray,
                     es_label: np.ndarray,
                     mode: str,
                     num_classes: int,
                     size: Optional[Sequence[int]] = None,
                     strategy: str = 'sequential',
                     closing_kernel: int = 5,
                     batch_size: int = 8,
                     device='cpu') -> np.ndarray:
    """Pseudo-labels for every frame of an ED -> ES sequence.

    Args:
        frames (ndarray): ``(T, H, W)`` uint8 frames, ED first, ES last.
        ed_label, es_label (ndarray): ``(H, W)`` label maps of ED and ES.
        mode (str): ``'forward'`` (ED only), ``'backward'`` (ES only) or
            ``'bidirectional'`` (Eq. 1 fusion of both).
        num_classes (int): Classes including background.

    Returns:
        ndarray: ``(T, H, W)`` uint8 labels.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    T, H, W = frames.shape
    for name, lab in (('ED', ed_label), ('ES', es_label)):
        if lab is not None and lab.shape != (H, W):
            raise ValueError(f'{name} label map {lab.shape} does not match '
                             f'the frames {(H, W)}')
    kw = dict(
        size=size, strategy=strategy, batch_size=batch_size, device=device)
    fwd = bwd = None
    if mode in ('forward', 'bidirectional'):
        fwd = _carry(ed_label,
                     propagation_fields(fields_fn, frames, 'forward', **kw),
                     num_classes, batch_size)
    if mode in ('backward', 'bidirectional'):
        bwd = _carry(es_label,
                     propagation_fields(fields_fn, frames, 'backward', **kw),
                     num_classes, batch_size)
    if mode == 'forward':
        return fwd
    if mode == 'backward':
        return bwd
    return fuse_bidirectional(fwd, bwd, num_classes, closing_kernel)
