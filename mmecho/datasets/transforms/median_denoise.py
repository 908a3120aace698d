# Copyright (c) mmecho contributors. All rights reserved.
"""Median filter against salt-and-pepper noise (thesis section 3.2)."""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from scipy import ndimage

from mmecho.registry import TRANSFORMS


def median_blur(img: np.ndarray, kernel_size: int) -> np.ndarray:
    """Per-channel ``kernel_size`` x ``kernel_size`` median with replicated
    borders (``cv2.medianBlur``; scipy's ``mode='nearest'`` median, which is
    the same, where OpenCV does not support the dtype / size / channels)."""
    cv2_ok = (img.dtype == np.uint8 or
              (img.dtype == np.float32 and kernel_size <= 5))
    channels = 1 if img.ndim == 2 else img.shape[2]
    if cv2_ok and channels in (1, 3, 4):
        out = cv2.medianBlur(np.ascontiguousarray(img), kernel_size)
        return out.reshape(img.shape)
    size = (kernel_size, kernel_size) + (1, ) * (img.ndim - 2)
    return ndimage.median_filter(img, size=size, mode='nearest')


@TRANSFORMS.register_module()
class MedianDenoise(BaseTransform):
    """Median-filter the image to remove salt-and-pepper noise.

    Thesis (paper 002) section 3.2 pre-processes the echocardiograms with a
    median filter against salt-and-pepper noise; it gives no kernel size,
    so ``kernel_size=5`` is this implementation's choice. Each channel of
    ``img`` (H, W) or (H, W, C) is replaced by the median of its
    ``kernel_size`` x ``kernel_size`` pixel neighbourhood (borders
    replicated, ``cv2.medianBlur``): an isolated outlier pixel disappears,
    constant regions and straight edges stay. Label maps are untouched;
    shape and dtype are kept.

    Args:
        kernel_size (int): Odd window side in pixels, >= 3. Defaults to 5.
        prob (float): Probability of filtering. Defaults to 1.0 (always, a
            pre-processing step rather than an augmentation).
    """

    def __init__(self, kernel_size: int = 5, prob: float = 1.0) -> None:
        if (isinstance(kernel_size, bool)
                or not isinstance(kernel_size, (int, np.integer))
                or kernel_size < 3 or kernel_size % 2 == 0):
            raise ValueError('MedianDenoise kernel_size must be an odd '
                             f'integer >= 3, got {kernel_size!r}')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.kernel_size = int(kernel_size)
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        results['img'] = median_blur(results['img'], self.kernel_size)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(kernel_size={self.kernel_size}, '
                f'prob={self.prob})')
