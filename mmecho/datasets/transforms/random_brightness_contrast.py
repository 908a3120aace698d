# Copyright (c) mmecho contributors. All rights reserved.
"""Random brightness and contrast (albumentations'
``RandomBrightnessContrast``)."""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS

Limit = Union[float, Sequence[float]]


def _range(limit: Limit, name: str) -> Tuple[float, float]:
    """``a`` -> ``(-|a|, |a|)``; ``(low, high)`` is kept (low <= high)."""
    if np.isscalar(limit):
        a = abs(float(limit))
        return -a, a
    if len(limit) != 2 or float(limit[0]) > float(limit[1]):
        raise ValueError(f'{name} must be a number or a (low, high) pair '
                         f'with low <= high, got {limit!r}')
    return float(limit[0]), float(limit[1])


def brightness_contrast(img: np.ndarray, alpha: float, beta: float,
                        beta_by_max: bool) -> np.ndarray:
    """``img * alpha + beta * 255`` (``beta_by_max``) or
    ``img * alpha + beta * mean(img * alpha)``, clipped to 0..255.

    uint8 images go through a 256-entry float32 look-up table truncated to
    uint8 (albumentations' rounding: 1.5 * 3 = 4.5 gives 4); float images
    are computed in float32 without rounding (0..255 scale).
    """
    if img.dtype == np.uint8:
        lut = np.arange(256, dtype=np.float32)
        if alpha != 1:
            lut *= np.float32(alpha)
        if beta != 0:
            if beta_by_max:
                lut += np.float32(beta * 255)
            else:
                lut += np.float32(alpha * beta * img.mean())
        return np.clip(lut, 0, 255).astype(np.uint8)[img]
    out = img.astype(np.float32)
    if alpha != 1:
        out *= np.float32(alpha)
    if beta != 0:
        if beta_by_max:
            out += np.float32(beta * 255)
        else:
            out += np.float32(beta * out.mean())
    return np.clip(out, 0, 255).astype(img.dtype, copy=False)


@TRANSFORMS.register_module()
class RandomBrightnessContrast(BaseTransform):
    """Randomly change the contrast (gain) and brightness (offset).

    Reproduces albumentations 1.x ``RandomBrightnessContrast`` (implemented
    with numpy; albumentations is not a dependency). With probability
    ``prob`` it draws ``alpha = 1 + U(contrast_limit)`` then
    ``beta = U(brightness_limit)`` and sets

    - ``img * alpha + beta * 255`` with ``brightness_by_max=True`` (255 is
      the maximum value of uint8; brightness 0.3 adds 76.5),
    - ``img * alpha + beta * mean(img * alpha)`` otherwise,

    clipped to 0..255. uint8 images are mapped through a look-up table and
    truncated to uint8 as albumentations does; float images (mmecho's
    0..255 scale, where albumentations would assume 0..1) are not rounded.
    All channels get the same alpha and beta. Label maps are untouched;
    shape and dtype of ``img`` are kept.

    Args:
        brightness_limit (float | tuple[float, float]): ``a`` means
            ``(-a, a)``; fraction of 255 (or of the mean). Defaults to 0.2.
        contrast_limit (float | tuple[float, float]): Range added to 1 to
            give the gain. Defaults to 0.2.
        brightness_by_max (bool): Brightness relative to the dtype maximum
            (255) rather than to the image mean. Defaults to True.
        prob (float): Probability of applying the transform (albumentations'
            ``p``). Defaults to 0.5.
    """

    def __init__(self,
                 brightness_limit: Limit = 0.2,
                 contrast_limit: Limit = 0.2,
                 brightness_by_max: bool = True,
                 prob: float = 0.5) -> None:
        self.brightness_limit = _range(brightness_limit, 'brightness_limit')
        self.contrast_limit = _range(contrast_limit, 'contrast_limit')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.brightness_by_max = brightness_by_max
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        alpha = 1.0 + np.random.uniform(*self.contrast_limit)
        beta = np.random.uniform(*self.brightness_limit)
        results['img'] = brightness_contrast(results['img'], alpha, beta,
                                             self.brightness_by_max)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'brightness_limit={self.brightness_limit}, '
                f'contrast_limit={self.contrast_limit}, '
                f'brightness_by_max={self.brightness_by_max}, '
                f'prob={self.prob})')
