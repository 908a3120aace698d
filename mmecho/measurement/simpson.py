# Copyright (c) mmecho contributors. All rights reserved.
"""LV volumes by the method of discs (modified Simpson's rule).

ASE 2015: the LV cavity is cut into 20 discs perpendicular to its long axis;
biplane volume ``V = pi/4 * sum_i a_i * b_i * L / 20`` with ``a_i`` and
``b_i`` the disc diameters in the apical four- and two-chamber views and
``L`` the longer of the two long-axis lengths.

Long axis from a mask alone: the principal axis of the cavity pixels (in mm),
``L`` = the cavity's extent along it; disc ``i`` is centred at
``(i + 0.5) L / 20`` and its diameter is the cavity's extent along the
perpendicular through that point, sampled every ``step_mm``.
"""
from typing import Dict, Sequence, Tuple

import numpy as np
from scipy import ndimage

NUM_DISCS = 20


def disc_diameters(mask: np.ndarray,
                   spacing: Sequence[float],
                   num_discs: int = NUM_DISCS,
                   step_mm: float = 0.1) -> Tuple[np.ndarray, float]:
    """Disc diameters (mm) of a binary LV cavity mask.

    Args:
        mask (np.ndarray): ``(H, W)`` boolean cavity mask.
        spacing (Sequence[float]): ``(row_mm, col_mm)`` pixel size.
        num_discs (int): Number of discs (20 by ASE convention).
        step_mm (float): Sampling step along the lines, mm.

    Returns:
        tuple: ``(diameters, length)``: ``(num_discs,)`` diameters in mm and
        the long-axis length in mm. An empty mask gives zeros.
    """
    mask = np.asarray(mask).astype(bool)
    if not mask.any():
        return np.zeros(num_discs), 0.0
    sy, sx = float(spacing[0]), float(spacing[1])
    rows, cols = np.nonzero(mask)
    pts = np.stack([rows * sy, cols * sx], 1)
    centre = pts.mean(0)
    cov = np.cov((pts - centre).T) if len(pts) > 1 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    axis = evecs[:, np.argmax(evals)]
    if axis[0] < 0:  # point from apex (top) to base (bottom)
        axis = -axis
    perp = np.array([-axis[1], axis[0]])
    # extent along the axis, measured on the pixel squares' corners
    proj = (pts - centre) @ axis
    half_px = 0.5 * (abs(axis[0]) * sy + abs(axis[1]) * sx)
    s_min, s_max = proj.min() - half_px, proj.max() + half_px
    length = float(s_max - s_min)
    s_centres = s_min + (np.arange(num_discs) + 0.5) * length / num_discs
    # sample each perpendicular line
    extent = np.hypot(mask.shape[0] * sy, mask.shape[1] * sx)
    t = np.arange(-extent, extent, step_mm)
    line_pts = (centre[None, None] + s_centres[:, None, None] * axis +
                t[None, :, None] * perp)  # (D, N, 2) mm
    coords = [line_pts[..., 0] / sy, line_pts[..., 1] / sx]
    inside = ndimage.map_coordinates(
        mask.astype(np.uint8), coords, order=0, mode='constant', cval=0)
    diam = inside.sum(1) * step_mm
    return diam.astype(np.float64), length


def biplane_volume_from_discs(diam_a4c: np.ndarray, length_a4c: float,
                              diam_a2c: np.ndarray,
                              length_a2c: float) -> float:
    """Biplane volume (ml) from the disc diameters (mm) and long-axis
    lengths (mm) of :func:`disc_diameters` in the A4C and A2C views."""
    a = np.asarray(diam_a4c, np.float64)
    b = np.asarray(diam_a2c, np.float64)
    length = max(float(length_a4c), float(length_a2c))
    return float(np.pi / 4 * np.sum(a * b) * length / len(a) / 1000.0)


def simpson_biplane_volume(mask_a4c: np.ndarray, spacing_a4c: Sequence[float],
                           mask_a2c: np.ndarray,
                           spacing_a2c: Sequence[float]) -> float:
    """Biplane LV volume in ml from the A4C and A2C cavity masks."""
    a, la = disc_diameters(mask_a4c, spacing_a4c)
    b, lb = disc_diameters(mask_a2c, spacing_a2c)
    return biplane_volume_from_discs(a, la, b, lb)


def simpson_single_plane_volume(mask: np.ndarray,
                                spacing: Sequence[float]) -> float:
    """Single-plane LV volume in ml (discs with circular cross-section)."""
    d, length = disc_diameters(mask, spacing)
    return float(np.pi / 4 * np.sum(d * d) * length / NUM_DISCS / 1000.0)


def biplane_ef(ed_a4c, es_a4c, ed_a2c, es_a2c, spacing_a4c,
               spacing_a2c) -> Dict[str, float]:
    """EDV, ESV (ml) and EF (%) by the biplane method of discs."""
    edv = simpson_biplane_volume(ed_a4c, spacing_a4c, ed_a2c, spacing_a2c)
    esv = simpson_biplane_volume(es_a4c, spacing_a4c, es_a2c, spacing_a2c)
    ef = 100.0 * (edv - esv) / edv if edv > 0 else float('nan')
    return dict(EDV=edv, ESV=esv, EF=ef)
