# Copyright (c) mmecho contributors. All rights reserved.
"""Temporal smoothness of a segmentation sequence (paper 001, Eq. 2)."""
import numpy as np


def area_curve(labels: np.ndarray, classes, spacing=(1.0, 1.0)):
    """Area (mm^2) of ``classes`` in every frame of ``(T, H, W)`` labels."""
    px = float(spacing[0]) * float(spacing[1])
    return np.isin(labels, classes).reshape(labels.shape[0], -1).sum(1) * px


def temporal_smoothness(area: np.ndarray) -> float:
    """Eq. 2: ``int_1^N a''(t)^2 dt`` with the second derivative as the
    central difference ``a(t+1) - 2 a(t) + a(t-1)`` (per frame^2) and the
    integral as the sum over the inner frames (dt = 1 frame). Units: those
    of ``area`` squared per frame^3 (mm^4 for areas in mm^2). 0 for a linear
    or constant curve; lower is smoother. Sequences of fewer than 3 frames
    give 0."""
    a = np.asarray(area, np.float64)
    if a.size < 3:
        return 0.0
    d2 = a[2:] - 2 * a[1:-1] + a[:-2]
    return float(np.sum(d2**2))


def temporal_smoothness_trapz(area: np.ndarray) -> float:
    """Eq. 2 as paper 001's reference code computed it: the second
    differences ``d2 = np.diff(a, 2)`` (``a(t+2) - 2 a(t+1) + a(t)``) squared
    and integrated with the trapezoidal rule over the ``N - 2`` values
    (dt = 1 frame): ``sum d2^2 - (d2[0]^2 + d2[-1]^2) / 2``. The reference
    passes areas in pixels (counts of the prediction's pixels), so the
    value is in pixels^2 per frame^3; the result is in ``area``'s units
    squared. Sequences of fewer than 4 frames give 0 (``np.trapz`` of one
    or no value is 0)."""
    a = np.asarray(area, np.float64)
    if a.size < 4:
        return 0.0
    d2sq = np.diff(a, 2)**2
    return float(d2sq.sum() - 0.5 * (d2sq[0] + d2sq[-1]))
