# Copyright (c) mmecho contributors. All rights reserved.
"""Pixel size of an M-mode capture: explicit, sidecar JSON, or read from the
depth scale's 1 cm ticks; and the M-mode strip's position."""
import json
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

from mmecho.datasets.io import DatasetFormatError


def read_sidecar_cm_per_px(image_path: str) -> Optional[float]:
    """``cm_per_px`` from ``<image>.json`` next to the image, if present.

    The sidecar is ``{"cm_per_px": 0.0372}`` (other keys are ignored).
    """
    stem = osp.splitext(image_path)[0]
    for path in (stem + '.json', image_path + '.json'):
        if not osp.isfile(path):
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise DatasetFormatError(path, f'not valid JSON ({e})')
        value = data.get('cm_per_px') if isinstance(data, dict) else None
        if not isinstance(value, (int, float)) or not value > 0:
            raise DatasetFormatError(
                path,
                f'expected a positive number, got {value!r}',
                field='cm_per_px')
        return float(value)
    return None


def find_mmode_strip(image: np.ndarray,
                     min_std: float = 12.0) -> Tuple[int, int, int, int]:
    """Bounding rows/columns of the M-mode panel: the largest block of
    speckle-textured columns and rows in the lower part of the capture.

    Args:
        image (np.ndarray): (H, W) or (H, W, 3) uint8 screen capture.

    Returns:
        tuple: ``(top, bottom, left, right)``, half-open pixel ranges.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image,
                                                      cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    # speckle varies along time and depth; flat backgrounds, text and
    # ticks are sparse. Every 4th row / column is plenty for the statistics.
    low = gray[h // 3::4].astype(np.float32)
    col_std = low.std(0)
    cols = _longest_run(col_std > min_std)
    if cols is None:
        raise ValueError('no M-mode strip found (no textured columns)')
    left, right = cols
    sub = gray[:, left:right:4].astype(np.float32)
    row_std = sub.std(1)
    row_mean = sub.mean(1)
    rows = _longest_run((row_std > min_std) & (row_mean > 5))
    if rows is None:
        raise ValueError('no M-mode strip found (no textured rows)')
    return rows[0], rows[1], left, right


def _longest_run(flags: np.ndarray, tolerance: int = 3):
    """Longest run of True, bridging False gaps up to ``tolerance``."""
    best, start, gap = None, None, 0
    for i, f in enumerate(list(flags) + [False] * (tolerance + 1)):
        if f:
            if start is None:
                start = i
            gap = 0
            end = i + 1
        elif start is not None:
            gap += 1
            if gap > tolerance:
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
                start, gap = None, 0
    return best


def read_depth_scale(image: np.ndarray,
                     strip: Optional[Tuple[int, int, int, int]] = None,
                     min_ticks: int = 4) -> Optional[float]:
    """cm per pixel from the 1 cm ticks of the depth scale.

    Ticks are short bright horizontal lines that start at the same column,
    right of the M-mode strip, regularly spaced in depth. The tick column
    is the one where most bright runs start; their spacing (median of
    consecutive differences, which must agree within 3 %) is one cm.

    Returns:
        float or None: cm per pixel, or None when no regular tick column
        is found (then calibrate with ``--cm-per-px`` or a sidecar).
    """
    h, w = image.shape[:2]
    if strip is None:
        strip = find_mmode_strip(image)
    top, bottom, _, right = strip
    region = image[max(top - 2, 0):min(bottom + 2, h), right:]
    if region.ndim == 3:
        region = region.max(-1)
    bright = region > 200
    starts = bright[:, 1:] & ~bright[:, :-1]  # run starts, column x+1
    best = None
    for x in np.argsort(-starts.sum(0))[:5]:
        rows = np.nonzero(starts[:, x])[0]
        # the run must be a short tick: 3..20 px long
        ok = [r for r in rows if 3 <= _run_length(bright[r, x + 1:]) <= 20]
        if len(ok) < min_ticks:
            continue
        diffs = np.diff(ok)
        spacing = float(np.median(diffs))
        if spacing < 5 or np.any(
                np.abs(diffs - spacing) > 0.03 * spacing + 1.01):
            continue
        # sub-pixel: least-squares slope of tick rows against their index
        idx = np.round((np.array(ok) - ok[0]) / spacing)
        slope = np.polyfit(idx, np.array(ok, np.float64), 1)[0]
        if best is None or len(ok) > best[1]:
            best = (slope, len(ok))
    return None if best is None else 1.0 / best[0]


def _run_length(row: np.ndarray) -> int:
    off = np.nonzero(~row)[0]
    return int(off[0]) if len(off) else len(row)
