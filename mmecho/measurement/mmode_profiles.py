# Copyright (c) mmecho contributors. All rights reserved.
"""Per-column geometry of M-mode masks (depth runs down the rows, time runs
along the columns)."""
from typing import Tuple

import numpy as np


def band_edges(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Top and bottom edge of a band mask in every column.

    Args:
        mask (np.ndarray): (H, W) bool or {0, 1}, or a soft mask in [0, 1]
            (then read at 0.5 with linear interpolation between rows).

    Returns:
        tuple: ``top``, ``bottom`` (W,) float rows in pixel-edge coordinates
        (a mask occupying rows 10..19 has top 10.0 and bottom 20.0, so
        ``bottom - top`` is its height in pixels); NaN where the column is
        empty. For soft masks the edges are sub-pixel.
    """
    m = np.asarray(mask)
    h, w = m.shape
    if m.dtype == bool or np.issubdtype(m.dtype, np.integer):
        fg = m > 0
        any_ = fg.any(0)
        top = np.argmax(fg, 0).astype(np.float64)
        bottom = h - np.argmax(fg[::-1], 0).astype(np.float64)
        top[~any_] = np.nan
        bottom[~any_] = np.nan
        return top, bottom
    m = m.astype(np.float64)
    fg = m >= 0.5
    any_ = fg.any(0)
    first = np.argmax(fg, 0)
    last = h - 1 - np.argmax(fg[::-1], 0)
    cols = np.arange(w)
    # sub-pixel: where the profile crosses 0.5 between two pixel centres
    prev = m[np.maximum(first - 1, 0), cols]
    cur = m[first, cols]
    frac = np.where(first > 0, (cur - 0.5) / np.maximum(cur - prev, 1e-9), .5)
    top = first + 0.5 - np.clip(frac, 0, 1)
    nxt = m[np.minimum(last + 1, h - 1), cols]
    cur = m[last, cols]
    frac = np.where(last < h - 1, (cur - 0.5) / np.maximum(cur - nxt, 1e-9),
                    .5)
    bottom = last + 0.5 + np.clip(frac, 0, 1)
    top[~any_] = np.nan
    bottom[~any_] = np.nan
    return top, bottom


def fill_small_gaps(values: np.ndarray, max_gap: int = 5) -> np.ndarray:
    """Linearly interpolate NaN runs of at most ``max_gap`` columns."""
    v = np.asarray(values, np.float64).copy()
    nan = np.isnan(v)
    if nan.all() or not nan.any():
        return v
    idx = np.arange(len(v))
    start = None
    for i in range(len(v) + 1):
        if i < len(v) and nan[i]:
            if start is None:
                start = i
            continue
        if start is not None:
            if start > 0 and i < len(v) and i - start <= max_gap:
                v[start:i] = np.interp(idx[start:i], [start - 1, i],
                                       [v[start - 1], v[i]])
            start = None
    return v


def polygon_band_edges(polygons, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Top and bottom edge per column from COCO polygons (sub-pixel).

    The vertical line through each column's centre (x = c + 0.5) is cut
    with every polygon edge; the first and last crossings are the band's
    top and bottom there. This reads the annotation's own contour instead
    of its rasterised mask (which rounds each edge to whole pixels).

    Args:
        polygons (list[list[float]]): COCO ``segmentation`` polygons
            ``[x1, y1, x2, y2, ...]`` in pixel-edge coordinates.
        width (int): image width W.

    Returns:
        tuple: ``top``, ``bottom`` (W,) float, NaN where no polygon.
    """
    top = np.full(width, np.inf)
    bottom = np.full(width, -np.inf)
    xc = np.arange(width) + 0.5
    for poly in polygons:
        p = np.asarray(poly, np.float64).reshape(-1, 2)
        q = np.roll(p, -1, axis=0)
        for (x1, y1), (x2, y2) in zip(p, q):
            if x1 == x2:
                continue
            lo, hi = min(x1, x2), max(x1, x2)
            cols = np.nonzero((xc >= lo) & (xc < hi))[0]
            if not len(cols):
                continue
            y = y1 + (xc[cols] - x1) * (y2 - y1) / (x2 - x1)
            top[cols] = np.minimum(top[cols], y)
            bottom[cols] = np.maximum(bottom[cols], y)
    empty = ~np.isfinite(top)
    top[empty] = np.nan
    bottom[empty] = np.nan
    return top, bottom
