# Copyright (c) mmecho contributors. All rights reserved.
"""Contour distances between two binary masks, in mm.

The contour of a mask is its set of foreground pixels with at least one
4-neighbour outside the mask (the mask minus its erosion by a 3x3 cross; the
image border counts as outside), as in medpy and MONAI. Distances are
Euclidean between pixel centres scaled by the pixel spacing, found with a
k-d tree over contour points only (no distance transform of the image).
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from scipy.spatial import cKDTree

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def contour_points(mask: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """``(N, 2)`` contour pixel centres (row, col) in mm of an ``(H, W)``
    boolean mask."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    eroded = cv2.erode(
        m, _CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    rows, cols = np.nonzero(m & (eroded == 0))
    return np.stack([rows * float(spacing[0]), cols * float(spacing[1])], 1)


def directed_surface_distances(
        pred: np.ndarray, ref: np.ndarray,
        spacing: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Distances (mm) from every contour point of ``pred`` to the contour of
    ``ref`` and from ``ref`` to ``pred``. Both masks must be non-empty."""
    p = contour_points(pred, spacing)
    r = contour_points(ref, spacing)
    d_pr = cKDTree(r).query(p, k=1)[0]
    d_rp = cKDTree(p).query(r, k=1)[0]
    return d_pr, d_rp


def image_diagonal_mm(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """The largest distance possible in the image: its diagonal in mm."""
    return float(
        np.hypot(shape[0] * float(spacing[0]), shape[1] * float(spacing[1])))


def hausdorff_and_mad(pred: np.ndarray,
                      ref: np.ndarray,
                      spacing: Sequence[float],
                      mad_mode: str = 'mean_of_means') -> Tuple[float, float]:
    """2D Hausdorff distance and mean absolute distance (mm).

    ``HD = max(max d(P->R), max d(R->P))``. ``MAD`` with
    ``mad_mode='mean_of_means'`` (default) is ``(mean d(P->R) +
    mean d(R->P)) / 2``, each contour weighing the same; with ``'pooled'`` it
    is the mean over both sets of distances together (medpy 0.5's ``assd``,
    MONAI's ``SurfaceDistanceMetric(symmetric=True)``), where the longer
    contour weighs more. The two agree when both contours have as many
    pixels.

    Empty masks have a defined result instead of NaN: both empty -> (0, 0);
    exactly one empty -> the image diagonal in mm for both (the worst
    possible value, so a missed structure is penalised, not dropped).
    """
    if mad_mode not in ('mean_of_means', 'pooled'):
        raise ValueError("mad_mode must be 'mean_of_means' or 'pooled', got "
                         f'{mad_mode!r}')
    pred = np.asarray(pred, bool)
    ref = np.asarray(ref, bool)
    has_p, has_r = pred.any(), ref.any()
    if not has_p and not has_r:
        return 0.0, 0.0
    if has_p != has_r:
        d = image_diagonal_mm(pred.shape, spacing)
        return d, d
    d_pr, d_rp = directed_surface_distances(pred, ref, spacing)
    hd = float(max(d_pr.max(), d_rp.max()))
    if mad_mode == 'pooled':
        mad = float(np.concatenate([d_pr, d_rp]).mean())
    else:
        mad = float(0.5 * (d_pr.mean() + d_rp.mean()))
    return hd, mad


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    """Dice overlap; 1.0 when both masks are empty."""
    pred = np.asarray(pred, bool)
    ref = np.asarray(ref, bool)
    denom = int(pred.sum()) + int(ref.sum())
    if denom == 0:
        return 1.0
    return 2.0 * int(np.logical_and(pred, ref).sum()) / denom
