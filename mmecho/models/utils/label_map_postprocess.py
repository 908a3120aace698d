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


def apply_camus_postprocess(results, test_cfg) -> None:
    """Apply :func:`keep_largest_component_and_fill` to the ``pred_sem_seg``
    of mmseg results in place when ``test_cfg`` sets ``largest_component``
    and/or ``fill_holes`` (``postprocess_classes`` restricts the labels)."""
    import torch
    cfg = test_cfg or {}
    lcc = cfg.get('largest_component', False)
    fill = cfg.get('fill_holes', False)
    if not (lcc or fill):
        return
    classes = cfg.get('postprocess_classes', None)
    for sample in results:
        pred = sample.pred_sem_seg.data
        lab = keep_largest_component_and_fill(
            pred[0].cpu().numpy(),
            classes,
            largest_component=lcc,
            fill_holes=fill)
        sample.pred_sem_seg.data = torch.from_numpy(lab).to(pred)[None]
