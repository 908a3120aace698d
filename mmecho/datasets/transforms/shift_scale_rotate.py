# Copyright (c) mmecho contributors. All rights reserved.
"""Random affine shift, scale and rotation (albumentations' semantics)."""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS

Limit = Union[float, Sequence[float]]

BORDER_MODES = {
    'constant': cv2.BORDER_CONSTANT,
    'replicate': cv2.BORDER_REPLICATE,
    'reflect': cv2.BORDER_REFLECT,
    'reflect_101': cv2.BORDER_REFLECT_101,
    'wrap': cv2.BORDER_WRAP,
}

# dtypes cv2.warpAffine accepts; other label dtypes go through float32
_CV2_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def _range(limit: Limit, name: str) -> Tuple[float, float]:
    """``a`` -> ``(-|a|, |a|)``; ``(low, high)`` is kept (low <= high)."""
    if np.isscalar(limit):
        a = abs(float(limit))
        return -a, a
    if len(limit) != 2 or float(limit[0]) > float(limit[1]):
        raise ValueError(f'{name} must be a number or a (low, high) pair '
                         f'with low <= high, got {limit!r}')
    return float(limit[0]), float(limit[1])


def _seg_keys(results: dict) -> list:
    """``gt_seg_map`` and the other label maps named in ``seg_fields``."""
    keys = ['gt_seg_map'] + list(results.get('seg_fields', []))
    return [k for i, k in enumerate(keys)
            if k not in keys[:i] and results.get(k, None) is not None]


def warp_affine(arr: np.ndarray, matrix: np.ndarray, flags: int,
                border_mode: int, border_value) -> np.ndarray:
    """``cv2.warpAffine`` to the input's own size, keeping its shape and
    dtype (more than 4 channels are warped in chunks of 4, a singleton
    channel axis is restored, dtypes cv2 lacks go through float32)."""
    h, w = arr.shape[:2]
    dtype = arr.dtype
    work = arr if dtype in _CV2_DTYPES else arr.astype(np.float32)
    if np.isscalar(border_value):
        border_value = (float(border_value), ) * 4
    else:
        border_value = tuple(float(v) for v in border_value)

    def warp(a):
        out = cv2.warpAffine(
            np.ascontiguousarray(a),
            matrix, (w, h),
            flags=flags,
            borderMode=border_mode,
            borderValue=border_value)
        return out.reshape(a.shape)

    if work.ndim == 3 and work.shape[2] > 4:
        out = np.concatenate([
            warp(work[..., i:i + 4]) for i in range(0, work.shape[2], 4)
        ], axis=2)
    else:
        out = warp(work)
    return out.astype(dtype, copy=False)


@TRANSFORMS.register_module()
class ShiftScaleRotate(BaseTransform):
    """Randomly translate, scale and rotate the image and its label maps.

    Reproduces albumentations 1.x ``ShiftScaleRotate`` (implemented here
    with numpy/OpenCV; albumentations is not a dependency). With
    probability ``prob`` it draws, in this order,

    - ``angle ~ U(rotate_limit)`` in degrees; positive is counter-clockwise
      on the displayed image (``cv2.getRotationMatrix2D`` convention);
    - ``scale = 1 + U(scale_limit)`` (``scale_limit=(-0.5, 1.0)`` gives a
      zoom factor in 0.5..2.0; 1 keeps the size);
    - ``dx ~ U(shift_limit)``, ``dy ~ U(shift_limit)``: shifts as fractions
      of the width and height (``dx=0.25`` moves content right by
      ``0.25 * W`` pixels, ``dy > 0`` moves it down);

    and applies ``M = getRotationMatrix2D((W / 2 - 0.5, H / 2 - 0.5), angle,
    scale)`` (rotation and scale about the centre of the pixel grid)
    followed by a translation of ``(dx * W, dy * H)`` pixels, with
    ``cv2.warpAffine`` to the same ``(H, W)``: bilinear for ``img``,
    nearest neighbour for ``gt_seg_map`` and every key in ``seg_fields``
    (so label maps keep their label set). Shapes and dtypes are unchanged.

    Args:
        shift_limit (float | tuple[float, float]): ``a`` means ``(-a, a)``;
            fractions of the image side. Defaults to 0.0625.
        scale_limit (float | tuple[float, float]): Range added to 1 to give
            the zoom factor. Defaults to 0.1.
        rotate_limit (float | tuple[float, float]): Angle range in degrees.
            Defaults to 45.
        prob (float): Probability of applying the transform (albumentations'
            ``p``). Defaults to 0.5.
        border_mode (str): Pixels mapped from outside the input: 'constant',
            'replicate', 'reflect', 'reflect_101' (``cv2.BORDER_REFLECT_101``,
            albumentations' default) or 'wrap'.
        img_fill (float | Sequence[float]): Image value outside the input
            with ``border_mode='constant'`` (per channel, image channel
            order). Defaults to 0.
        seg_fill (int): Label outside the input with
            ``border_mode='constant'``. Defaults to 0 (albumentations'
            ``mask_value=None``); 255 marks it ignored in mmseg.
    """

    def __init__(self,
                 shift_limit: Limit = 0.0625,
                 scale_limit: Limit = 0.1,
                 rotate_limit: Limit = 45,
                 prob: float = 0.5,
                 border_mode: str = 'reflect_101',
                 img_fill=0,
                 seg_fill: int = 0) -> None:
        self.shift_limit = _range(shift_limit, 'shift_limit')
        self.scale_limit = _range(scale_limit, 'scale_limit')
        self.rotate_limit = _range(rotate_limit, 'rotate_limit')
        if 1 + self.scale_limit[0] <= 0:
            raise ValueError('scale_limit must keep 1 + scale > 0, got '
                             f'{scale_limit!r}')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if border_mode not in BORDER_MODES:
            raise ValueError(f'border_mode must be one of '
                             f'{sorted(BORDER_MODES)}, got {border_mode!r}')
        self.prob = prob
        self.border_mode = border_mode
        self.img_fill = img_fill
        self.seg_fill = seg_fill

    def _matrix(self, h: int, w: int, angle: float, scale: float, dx: float,
                dy: float) -> np.ndarray:
        matrix = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle,
                                         scale)
        matrix[0, 2] += dx * w
        matrix[1, 2] += dy * h
        return matrix

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        angle = np.random.uniform(*self.rotate_limit)
        scale = 1.0 + np.random.uniform(*self.scale_limit)
        dx = np.random.uniform(*self.shift_limit)
        dy = np.random.uniform(*self.shift_limit)
        img = results['img']
        h, w = img.shape[:2]
        matrix = self._matrix(h, w, angle, scale, dx, dy)
        border = BORDER_MODES[self.border_mode]
        results['img'] = warp_affine(img, matrix, cv2.INTER_LINEAR, border,
                                     self.img_fill)
        for key in _seg_keys(results):
            results[key] = warp_affine(results[key], matrix,
                                       cv2.INTER_NEAREST, border,
                                       self.seg_fill)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(shift_limit={self.shift_limit}, '
                f'scale_limit={self.scale_limit}, '
                f'rotate_limit={self.rotate_limit}, prob={self.prob}, '
                f'border_mode={self.border_mode!r}, '
                f'img_fill={self.img_fill}, seg_fill={self.seg_fill})')
