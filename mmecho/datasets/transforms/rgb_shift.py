# Copyright (c) mmecho contributors. All rights reserved.
"""Random per-channel intensity shift (albumentations' ``RGBShift``)."""
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


def shift_uint8(channel: np.ndarray, shift: float) -> np.ndarray:
    """Add ``shift`` to a uint8 array through a 256-entry look-up table:
    ``clip(v + shift, 0, 255)`` truncated to an integer (so a shift of
    10.7 adds 10 and -10.7 subtracts 11 away from the clip limits)."""
    lut = np.clip(np.arange(256, dtype=np.float32) + np.float32(shift), 0,
                  255).astype(np.uint8)
    return lut[channel]


@TRANSFORMS.register_module()
class RGBShift(BaseTransform):
    """Add an independent random offset to each of the three channels.

    Reproduces albumentations 1.x ``RGBShift`` (implemented with numpy;
    albumentations is not a dependency). With probability ``prob`` it draws
    ``r ~ U(r_shift_limit)``, ``g ~ U(g_shift_limit)`` and
    ``b ~ U(b_shift_limit)`` (in that order, intensity units of 0..255) and
    adds them to channels 0, 1 and 2 of ``img``:

    - uint8 images: per value through a look-up table,
      ``clip(v + shift, 0, 255)`` then truncated to uint8 as albumentations
      does (a fractional shift is floored for results within range);
    - float images: ``clip(v + shift, 0, 255)`` without rounding. mmecho's
      float images are on the 0..255 scale (albumentations assumes 0..1
      for float images and clips there; this differs on purpose).

    The names are nominal: the shifts go to the channels in the image's own
    order, and mmecho images are BGR (OpenCV) or a grey level repeated over
    three channels, so ``r_shift_limit`` acts on channel 0 (blue for BGR).
    With equal limits, as the thesis used, the naming makes no difference.
    Label maps (``gt_seg_map``, ``seg_fields``) are untouched; shape and
    dtype of ``img`` (H, W, 3) are kept.

    Args:
        r_shift_limit (float | tuple[float, float]): ``a`` means ``(-a, a)``.
            Defaults to 20.
        g_shift_limit (float | tuple[float, float]): Defaults to 20.
        b_shift_limit (float | tuple[float, float]): Defaults to 20.
        prob (float): Probability of applying the transform (albumentations'
            ``p``). Defaults to 0.5.
    """

    def __init__(self,
                 r_shift_limit: Limit = 20,
                 g_shift_limit: Limit = 20,
                 b_shift_limit: Limit = 20,
                 prob: float = 0.5) -> None:
        self.r_shift_limit = _range(r_shift_limit, 'r_shift_limit')
        self.g_shift_limit = _range(g_shift_limit, 'g_shift_limit')
        self.b_shift_limit = _range(b_shift_limit, 'b_shift_limit')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        shifts = [
            np.random.uniform(*lim) for lim in (self.r_shift_limit,
                                                self.g_shift_limit,
                                                self.b_shift_limit)
        ]
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('RGBShift expects a 3-channel (H, W, 3) image, '
                             f'got shape {img.shape} for '
                             f"{results.get('img_path')}")
        out = np.empty_like(img)
        for c, shift in enumerate(shifts):
            if img.dtype == np.uint8:
                out[..., c] = shift_uint8(img[..., c], shift)
            else:
                out[..., c] = np.clip(img[..., c] + shift, 0, 255)
        results['img'] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'r_shift_limit={self.r_shift_limit}, '
                f'g_shift_limit={self.g_shift_limit}, '
                f'b_shift_limit={self.b_shift_limit}, prob={self.prob})')
