# Copyright (c) mmecho contributors. All rights reserved.
"""Random crop that keeps an object only if enough of its box survives."""
import copy
from typing import Optional

import numpy as np
from mmdet.datasets.transforms import RandomCrop

from mmecho.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCropKeepFraction(RandomCrop):
    """mmdet's RandomCrop with RAMEM's keep rule (``keep_ratio`` 0.3).

    An object is kept when more than ``min_visible`` of its box area lies
    inside the crop; its box becomes the intersection with the crop and its
    mask is cropped. The crop is applied with probability ``prob``; up to
    ``max_tries`` crops are drawn until one keeps at least one object (an
    image without objects takes the first). If none does, the sample is
    returned uncropped, so no training image is dropped.

    Args:
        crop_size, crop_type, bbox_clip_border: as mmdet's RandomCrop.
            RAMEM uses ``crop_size=(0.6, 1.0), crop_type='relative_range'``
            (each side drawn in 60-100 %) and, after resizing, an absolute
            crop to the input size.
        min_visible (float): Fraction of the original box area that must
            stay inside the crop. Defaults to 0.3.
        prob (float): Probability of cropping. Defaults to 1.0.
        max_tries (int): Crops drawn before giving up. Defaults to 50.
    """

    def __init__(self,
                 crop_size: tuple,
                 crop_type: str = 'absolute',
                 min_visible: float = 0.3,
                 prob: float = 1.0,
                 max_tries: int = 50,
                 bbox_clip_border: bool = True) -> None:
        super().__init__(
            crop_size=crop_size,
            crop_type=crop_type,
            allow_negative_crop=True,
            recompute_bbox=False,
            bbox_clip_border=bbox_clip_border)
        if not 0 <= min_visible < 1:
            raise ValueError(f'min_visible must be in [0, 1), got '
                             f'{min_visible}')
        self.min_visible = min_visible
        self.prob = prob
        self.max_tries = max_tries

    def _crop_once(self, results: dict) -> Optional[dict]:
        out = copy.deepcopy(results)
        boxes = out.get('gt_bboxes', None)
        if boxes is None or len(boxes) == 0:
            h, w = out['img'].shape[:2]
            return self._crop_data(out, self._get_crop_size((h, w)), True)
        areas = boxes.areas.numpy().copy()
        had_ids = 'gt_instances_ids' in out
        saved_ids = out.get('gt_instances_ids')
        out['gt_instances_ids'] = np.arange(len(boxes))
        h, w = out['img'].shape[:2]
        out = self._crop_data(out, self._get_crop_size((h, w)), True)
        ids = out.pop('gt_instances_ids')
        visible = out['gt_bboxes'].areas.numpy() / np.maximum(areas[ids], 1e-6)
        keep = visible > self.min_visible
        if not keep.any():
            return None
        for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags'):
            if out.get(key, None) is not None:
                out[key] = out[key][keep]
        if out.get('gt_masks', None) is not None:
            out['gt_masks'] = out['gt_masks'][keep.nonzero()[0]]
        if had_ids:
            out['gt_instances_ids'] = saved_ids[ids[keep]]
        return out

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        for _ in range(self.max_tries):
            out = self._crop_once(results)
            if out is not None:
                return out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_type={self.crop_type}, min_visible={self.min_visible}'
                f', prob={self.prob})')
