# Copyright (c) mmecho contributors. All rights reserved.
"""Pad an image (with its boxes and masks) onto a larger canvas."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomPlacePad(BaseTransform):
    """Place the image at a random (or top-left) offset on a canvas.

    RAMEM pads every training image to a square with the mean colour at a
    random offset along the short side, and later pastes images smaller than
    the input size at a random position of an input-size canvas. Unlike
    mmdet's ``Pad`` (always bottom-right) the content moves, so boxes are
    translated and masks expanded; ``img_shape`` becomes the canvas shape.

    Args:
        size (tuple[int, int], optional): Minimum canvas (h, w); sides that
            are already larger are kept.
        square (bool): Canvas side = max(h, w) (combined with ``size``).
        random_offset (bool): Random placement; False puts the image at the
            top-left corner. Defaults to True.
        pad_val (Sequence[float] | float): Canvas colour in the image's
            channel order (BGR for OpenCV-loaded images). Defaults to 0.
    """

    def __init__(self,
                 size: Optional[Tuple[int, int]] = None,
                 square: bool = False,
                 random_offset: bool = True,
                 pad_val=0) -> None:
        if size is None and not square:
            raise ValueError('RandomPlacePad needs size or square=True')
        self.size = tuple(size) if size is not None else None
        self.square = square
        self.random_offset = random_offset
        self.pad_val = pad_val

    def _canvas(self, h: int, w: int) -> Tuple[int, int]:
        ch, cw = h, w
        if self.square:
            ch = cw = max(h, w)
        if self.size is not None:
            ch, cw = max(ch, self.size[0]), max(cw, self.size[1])
        return ch, cw

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        ch, cw = self._canvas(h, w)
        if (ch, cw) == (h, w):
            return results
        top = left = 0
        if self.random_offset:
            top = np.random.randint(0, ch - h + 1)
            left = np.random.randint(0, cw - w + 1)
        canvas = np.empty((ch, cw) + img.shape[2:], dtype=img.dtype)
        val = self.pad_val
        if isinstance(val, Sequence) and img.ndim == 3:
            canvas[...] = np.asarray(val, dtype=img.dtype)[:img.shape[2]]
        else:
            canvas[...] = val
        canvas[top:top + h, left:left + w] = img
        results['img'] = canvas
        results['img_shape'] = (ch, cw)
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'].translate_([left, top])
        if results.get('gt_masks', None) is not None:
            results['gt_masks'] = results['gt_masks'].expand(ch, cw, top, left)
        if results.get('gt_seg_map', None) is not None:
            seg = np.full((ch, cw), 255, dtype=results['gt_seg_map'].dtype)
            seg[top:top + h, left:left + w] = results['gt_seg_map']
            results['gt_seg_map'] = seg
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, square='
                f'{self.square}, random_offset={self.random_offset}, '
                f'pad_val={self.pad_val})')
