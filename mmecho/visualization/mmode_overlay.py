# Copyright (c) mmecho contributors. All rights reserved.
"""Draw AMEM results: masks, the calipers that were measured, the values."""
from typing import Dict, Optional

import cv2
import numpy as np

from mmecho.measurement.mmode_measurement import MModeMeasurement

#: BGR colours per structure (MEIS palette order IVS, LVPW, LA, AoR)
COLOURS = {
    'IVS': (60, 20, 220),
    'LVPW': (255, 160, 0),
    'LA': (80, 200, 0),
    'AoR': (30, 170, 250)
}
CALIPER = {
    'IVS': (0, 255, 255),
    'LVID': (255, 255, 255),
    'LVPW': (255, 0, 255),
    'AoR': (0, 255, 255),
    'LA': (255, 0, 255)
}


def draw_mmode_measurement(image: np.ndarray,
                           result: MModeMeasurement,
                           masks: Optional[Dict[str, np.ndarray]] = None,
                           alpha: float = 0.35) -> np.ndarray:
    """Return a BGR copy of ``image`` with masks, calipers and values.

    Args:
        image (np.ndarray): (H, W, 3) BGR capture.
        result (MModeMeasurement): what to annotate.
        masks (dict, optional): class name -> (H, W) mask to tint.
    """
    out = image.copy()
    for name, m in (masks or {}).items():
        if not isinstance(m, np.ndarray):
            continue
        sel = m > 0.5
        colour = np.array(COLOURS.get(name, (200, 200, 200)), np.float32)
        out[sel] = ((1 - alpha) * out[sel] + alpha * colour).astype(np.uint8)
    for cyc in result.cycles:
        for name, (col, y0, y1) in cyc.calipers.items():
            base = name.rstrip('ds') if name not in ('AoR', 'LA') else name
            colour = CALIPER.get(base, (255, 255, 255))
            cv2.line(out, (int(col), int(round(y0))),
                     (int(col), int(round(y1))), colour, 1)
            for y in (y0, y1):
                cv2.line(out, (int(col) - 3, int(round(y))),
                         (int(col) + 3, int(round(y))), colour, 1)
    draw_calibration(out, result)
    unit = 'cm' if result.cm_per_px is not None else 'px'
    scale = result.cm_per_px or 1.0
    # each caliper's value beside it, first cycle only (the others repeat)
    if result.cycles:
        for name, (col, y0, y1) in result.cycles[0].calipers.items():
            v = result.cycles[0].values_px[name] * scale
            # systolic labels one line lower: ED and ES columns are close
            dy = 14 if name.endswith('s') and name not in ('AoR', 'LA') \
                else 0
            _label(out, f'{name} {v:.2f}',
                   (int(col) + 5, int(round((y0 + y1) / 2)) + 4 + dy))
    cal = result.calibration
    if result.cm_per_px is not None:
        cal += f' ({result.cm_per_px * 10:.4f} mm/px)'
    lines = [
        f'{result.image_type}  {result.status}  '
        f'cycles: {len(result.cycles)}', f'calibration: {cal}'
    ]
    if result.cycles:
        vals = [
            f'{k} {result.mean_px(k) * scale:.2f}' for k in result.indicators
        ]
        for i in range(0, len(vals), 3):
            lines.append('  '.join(vals[i:i + 3]) + f' {unit}')
        hr = result.heart_rate_bpm()
        if np.isfinite(hr):
            lines.append(f'HR {hr:.0f} bpm')
    for i, text in enumerate(lines):
        _label(out, text, (10, out.shape[0] - 12 - 18 * (len(lines) - 1 - i)))
    return out


def _label(img, text, org, colour=(255, 255, 255)):
    """Text with a dark outline, readable on speckle."""
    for c, t in (((0, 0, 0), 3), (colour, 1)):
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, t,
                    cv2.LINE_AA)


def draw_calibration(img: np.ndarray, result: MModeMeasurement) -> None:
    """The detected panel (green rectangle) and what calibrated it: the
    1 cm ticks that were read (cyan marks with their cm), or the DICOM
    region."""
    marks = getattr(result, 'calibration_marks', None) or {}
    panel = marks.get('panel')
    if panel is None:
        return
    top, bottom, left, right = (int(v) for v in panel)
    colour = (0, 200, 0) if result.cm_per_px is not None else (0, 0, 230)
    cv2.rectangle(img, (left, top), (right - 1, bottom - 1), colour, 1)
    rows = marks.get('tick_rows') or []
    if rows:
        x0, x1 = marks.get('tick_columns', (right, right + 10))
        for cm, y in enumerate(rows):
            yi = int(round(y))
            cv2.line(img, (int(x0) - 4, yi), (int(x1) + 4, yi), (255, 255, 0),
                     1)
            if cm == 0:
                _label(img, '0 cm', (int(x1) + 6, yi - 6), (255, 255, 0))
    elif result.calibration == 'dicom region':
        _label(img, 'DICOM region', (left + 4, top + 16), colour)
