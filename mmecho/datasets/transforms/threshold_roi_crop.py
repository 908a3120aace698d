# Copyright (c) mmecho contributors. All rights reserved.
"""Crop to the bright region found by thresholding (thesis section 3.3)."""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS


def _seg_keys(results: dict) -> list:
    """``gt_seg_map`` and the other label maps named in ``seg_fields``."""
    keys = ['gt_seg_map'] + list(results.get('seg_fields', []))
    return [k for i, k in enumerate(keys)
            if k not in keys[:i] and results.get(k, None) is not None]


@TRANSFORMS.register_module()
class ThresholdROICrop(BaseTransform):
    """Crop the image and label maps to the largest bright region.

    Thesis (paper 002) section 3.3: binarise the image, clean it with
    morphology (remove small blobs, fill closed regions), keep the target
    region (the ultrasound sector) and crop to it. The thesis gives no
    threshold or kernel values; the defaults here are this implementation's.
    Steps, all deterministic:

    1. ``gray`` = mean of ``img`` over channels (H, W), as uint8 0..255
       (float images, 0..255 scale, are rounded and clipped);
    2. foreground = ``gray > threshold``; ``threshold=None`` picks it with
       Otsu's method (``cv2.THRESH_OTSU``);
    3. morphological opening then closing with an elliptical
       ``morph_kernel`` x ``morph_kernel`` pixel structuring element
       (opening removes blobs thinner than the kernel, closing fills gaps
       and holes smaller than it);
    4. keep the largest 8-connected component, box ``x0, y0, x1, y1``
       (pixels of the input; ``x1``, ``y1`` exclusive);
    5. enlarge the box by ``round(margin * box width)`` columns left and
       right and ``round(margin * box height)`` rows above and below,
       clipped to the image, and crop ``img``, ``gt_seg_map`` and every
       key of ``seg_fields`` to it; ``img_shape`` becomes the crop's (H, W).

    ``results['roi_crop']`` is set to the final ``(x0, y0, x1, y1)``. If no
    component covers ``min_area_fraction`` of the image (e.g. an all-black
    frame, or a constant one with ``threshold=None``, which Otsu cannot
    split), nothing is cropped and ``results['roi_crop'] = None``.
    Boxes and instance masks are not handled (semantic segmentation only).

    Args:
        threshold (float, optional): Intensity (0..255) above which a pixel
            is foreground; None for Otsu. Defaults to None.
        morph_kernel (int): Structuring element side in pixels; 1 disables
            the morphology. Defaults to 15.
        margin (float): Box enlargement per side, as a fraction of the box
            width / height. Defaults to 0.05.
        min_area_fraction (float): Smallest region, as a fraction of the
            image area, that is cropped to. Defaults to 0.01.
    """

    def __init__(self,
                 threshold: Optional[float] = None,
                 morph_kernel: int = 15,
                 margin: float = 0.05,
                 min_area_fraction: float = 0.01) -> None:
        if threshold is not None and not 0 <= threshold < 255:
            raise ValueError('threshold must be None (Otsu) or in [0, 255), '
                             f'got {threshold!r}')
        if int(morph_kernel) != morph_kernel or morph_kernel < 1:
            raise ValueError('morph_kernel must be an integer >= 1, got '
                             f'{morph_kernel!r}')
        if margin < 0:
            raise ValueError(f'margin must be >= 0, got {margin!r}')
        if not 0 <= min_area_fraction <= 1:
            raise ValueError('min_area_fraction must be in [0, 1], got '
                             f'{min_area_fraction!r}')
        self.threshold = threshold
        self.morph_kernel = int(morph_kernel)
        self.margin = margin
        self.min_area_fraction = min_area_fraction

    def foreground(self, img: np.ndarray) -> np.ndarray:
        """(H, W) uint8 mask (0/1) of the cleaned thresholded image."""
        gray = img.astype(np.float32)
        if gray.ndim == 3:
            gray = gray.mean(axis=2)
        gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
        if self.threshold is None:
            if gray.min() == gray.max():  # Otsu needs two intensities
                return np.zeros_like(gray)
            _, mask = cv2.threshold(gray, 0, 1,
                                    cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        else:
            mask = (gray > self.threshold).astype(np.uint8)
        if self.morph_kernel > 1:
            kernel = cv2.getStructuringElement(
                cv2.MORPH_ELLIPSE, (self.morph_kernel, self.morph_kernel))
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
        return mask

    def roi(self, img: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
        """The crop box ``(x0, y0, x1, y1)`` (exclusive ends) or None."""
        h, w = img.shape[:2]
        mask = self.foreground(img)
        n, _, stats, _ = cv2.connectedComponentsWithStats(
            mask, connectivity=8)
        if n < 2:  # background only
            return None
        best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = stats[best, cv2.CC_STAT_AREA]
        if area == 0 or area < self.min_area_fraction * h * w:
            return None
        x0, y0, bw, bh = (int(v) for v in stats[best, :4])
        mx = int(round(self.margin * bw))
        my = int(round(self.margin * bh))
        return (max(0, x0 - mx), max(0, y0 - my), min(w, x0 + bw + mx),
                min(h, y0 + bh + my))

    def transform(self, results: dict) -> dict:
        box = self.roi(results['img'])
        results['roi_crop'] = box
        if box is None:
            return results
        x0, y0, x1, y1 = box
        results['img'] = results['img'][y0:y1, x0:x1].copy()
        for key in _seg_keys(results):
            results[key] = results[key][y0:y1, x0:x1].copy()
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f'morph_kernel={self.morph_kernel}, margin={self.margin}, '
                f'min_area_fraction={self.min_area_fraction})')
