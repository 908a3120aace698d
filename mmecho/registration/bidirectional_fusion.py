# Copyright (c) mmecho contributors. All rights reserved.
"""Bidirectional fusion of forward and backward propagated labels (Eq. 1).

Tafuro et al. (paper 001, Eq. 1): for every class ``C`` and frame ``t``,

    y~_{t,C} = d(y->_{t,C}) cos^2(pi t / 2N) + d(y<-_{t,C}) sin^2(pi t / 2N)
             > 0

with ``d`` the signed distance to the mask edge (positive inside). As in the
reference code, the phase runs ``theta_t = linspace(0, pi/2, T)`` so the
forward term weighs exactly 1 at ED (t = 0) and 0 at ES (t = T - 1); the
label of a pixel is the class with the largest fused signed distance (which
is the ``> 0`` threshold for each class where classes do not compete), and a
5 x 5 morphological closing per foreground class smooths the result.
"""
from typing import Tuple

import cv2
import numpy as np


def fusion_weights(num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(w_forward, w_backward)``, each ``(T,)``: ``cos^2`` and ``sin^2`` of
    ``linspace(0, pi/2, T)``; they sum to 1, forward is 1 at t = 0 (ED) and
    0 at t = T - 1 (ES)."""
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    theta = np.linspace(0.0, np.pi / 2, num_frames)
    if num_frames == 1:
        theta = np.zeros(1)
    return np.cos(theta)**2, np.sin(theta)**2


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """Signed Euclidean distance (pixels) of one ``(H, W)`` binary mask:
    ``> 0`` inside (distance to the nearest outside pixel), ``< 0`` outside,
    so the edge is the zero crossing. An empty mask is ``-(H + W)``
    everywhere, a full one ``+(H + W)``."""
    mask = np.asarray(mask, bool)
    big = float(sum(mask.shape))
    if not mask.any():
        return np.full(mask.shape, -big, np.float32)
    if mask.all():
        return np.full(mask.shape, big, np.float32)
    m8 = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - m8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # the zero crossing lies half-way between an inside and outside pixel
    return np.where(mask, inside - 0.5, 0.5 - outside).astype(np.float32)


def close_labels(labels: np.ndarray,
                 num_classes: int,
                 kernel: int = 5) -> np.ndarray:
    """Morphological closing of each foreground class of a ``(H, W)`` label
    map; closing only claims background pixels, never another class."""
    if kernel <= 1:
        return labels
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    out = labels.copy()
    for c in range(1, num_classes):
        m = (labels == c).astype(np.uint8)
        if not m.any():
            continue
        closed = cv2.morphologyEx(m, cv2.MORPH_CLOSE, k).astype(bool)
        out[closed & (out == 0)] = c
    return out


def fuse_bidirectional(forward: np.ndarray,
                       backward: np.ndarray,
                       num_classes: int,
                       closing_kernel: int = 5) -> np.ndarray:
    """Eq. 1 over a sequence.

    Args:
        forward (ndarray): ``(T, H, W)`` labels propagated from ED (t = 0).
        backward (ndarray): ``(T, H, W)`` labels propagated from ES
            (t = T - 1).
        num_classes (int): Classes including background 0.
        closing_kernel (int): Closing size; 0 or 1 disables it.

    Returns:
        ndarray: ``(T, H, W)`` uint8 fused labels; frame 0 equals
        ``forward[0]`` and frame T-1 equals ``backward[-1]`` (before the
        closing).
    """
    if forward.shape != backward.shape or forward.ndim != 3:
        raise ValueError(f'forward {forward.shape} and backward '
                         f'{backward.shape} must be the same (T, H, W)')
    T = forward.shape[0]
    w_f, w_b = fusion_weights(T)
    out = np.empty(forward.shape, np.uint8)
    for t in range(T):
        score = np.stack([
            w_f[t] * signed_distance(forward[t] == c) +
            w_b[t] * signed_distance(backward[t] == c)
            for c in range(num_classes)
        ])
        out[t] = close_labels(
            score.argmax(0).astype(np.uint8), num_classes, closing_kernel)
    return out
