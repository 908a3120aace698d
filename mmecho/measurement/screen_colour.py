# Copyright (c) mmecho contributors. All rights reserved.
"""Which pixels of a screen capture are drawn in colour.

An M-mode (or B-mode) image is grey; what a scanner or an exported
screenshot draws over it in colour (a model's masks blended over the
structures, their boxes, calipers, a coloured cursor line or ECG) is not
image content. Imports only numpy and OpenCV.
"""
from typing import Optional

import cv2
import numpy as np


def coloured_pixels(image: np.ndarray) -> Optional[np.ndarray]:
    """(H, W) bool: the pixels of an (H, W, 3|4) BGR(A) uint8 capture whose
    channels differ by more than ``20 + 0.35 * max`` (a colour map's mild
    tint, sepia or bluish grey, stays grey); None when the image is not
    BGR uint8 or no pixel is coloured."""
    if image.ndim != 3 or image.shape[-1] < 3 or image.dtype != np.uint8 \
            or not image.size:
        return None
    b, g, r = image[..., 0], image[..., 1], image[..., 2]
    hi = cv2.max(cv2.max(b, g), r)
    lo = cv2.min(cv2.min(b, g), r)
    chroma = cv2.subtract(hi, lo)
    out = chroma.astype(np.float32) > 20 + 0.35 * hi.astype(np.float32)
    return out if out.any() else None
