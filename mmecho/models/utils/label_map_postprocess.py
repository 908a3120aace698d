# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS post-processing: largest connected component and hole filling."""
from typing import Iterable, Optional

import cv2
import numpy as np
from scipy import ndimage


def keep_largest_component_and_fill(label_map: np.ndarray,
                                    classes: Optional[Iterable[int]] = None,
                                    largest_component: bool = True,
                                    fill_holes: bool = True,
                                    background: int = 0) -> np.ndarray:
    """Per class, keep its largest 8-connected component and fill its holes.

    Pixels removed from a class become ``background``. A hole is filled only
    where it is background: the LV cavity inside the myocardium is not a hole
    of the myocardium and stays cavity.

    Args:
        label_map (np.ndarray): ``(H, W)`` integer label map.
        classes (Iterable[int], optional): Classes to process; default every
            non-background label present.
        largest_component (bool): Keep only the largest component per class.
        fill_holes (bool): Fill background holes enclosed by a class.
        background (int): Background label.

    Returns:
        np.ndarray: A new ``(H, W)`` label map of the same dtype.
    """
    out = np.array(label_map, copy=True)
    if classes is None:
        classes = [int(c) for c in np.unique(out) if c != background]
    for c in classes:
        mask = out == c
        if not mask.any():
            continue
        if largest_component:
            n, comp, stats, _ = cv2.connectedComponentsWithStats(
                mask.astype(np.uint8), connectivity=8)
            if n > 2:
                keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
                out[mask & (comp != keep)] = background
                mask = comp == keep
        if fill_holes:
            holes = ndimage.binary_fill_holes(mask) & (out == background)
            out[holes] = c
    return out
