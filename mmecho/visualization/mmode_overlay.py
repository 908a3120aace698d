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
    unit = 'cm' if result.cm_per_px is not None else 'px'
    lines = [
        f'{result.image_type}  {result.status}  '
        f'cycles: {len(result.cycles)}'
    ]
    if result.cycles:
        scale = result.cm_per_px or 1.0
        vals = [
            f'{k} {result.mean_px(k) * scale:.2f}' for k in result.indicators
        ]
        for i in range(0, len(vals), 3):
            lines.append('  '.join(vals[i:i + 3]) + f' {unit}')
    for i, text in enumerate(lines):
        cv2.putText(out, text,
                    (10, out.shape[0] - 12 - 18 * (len(lines) - 1 - i)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out
