# Copyright (c) mmecho contributors. All rights reserved.
"""Collapse a multi-class label map to foreground / background."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS


def _seg_keys(results: dict) -> list:
    """``gt_seg_map`` and the other label maps named in ``seg_fields``."""
    keys = ['gt_seg_map'] + list(results.get('seg_fields', []))
    return [k for i, k in enumerate(keys)
            if k not in keys[:i] and results.get(k, None) is not None]


@TRANSFORMS.register_module()
class BinarizeLabel(BaseTransform):
    """Map the labels in ``foreground`` to 1 and all others to 0.

    Applied to ``gt_seg_map`` (H, W) and every other label map named in
    ``results['seg_fields']``: a pixel becomes 1 where its label is in
    ``foreground``, 0 elsewhere, except pixels equal to ``ignore_index``,
    which stay ``ignore_index``. E.g. with ``foreground=(1,)`` the labels
    {0, 1, 2, 3, 255} become {0, 1, 0, 0, 255} (CAMUS: left-ventricle
    cavity against everything else). The dtype is kept. Deterministic (no
    ``prob``). The image is untouched.

    Args:
        foreground (Sequence[int]): Labels that become 1. Defaults to (1, ).
        ignore_index (int, optional): Label kept as is (mmseg's ignored
            label). None binarises it too. Defaults to 255.

    Raises:
        ValueError: ``gt_seg_map`` is missing (the error names
            ``results['seg_map_path']``).
    """

    def __init__(self,
                 foreground: Sequence[int] = (1, ),
                 ignore_index: Optional[int] = 255) -> None:
        if np.isscalar(foreground):
            foreground = (foreground, )
        self.foreground = tuple(int(v) for v in foreground)
        if not self.foreground:
            raise ValueError('BinarizeLabel needs at least one foreground '
                             'label')
        if ignore_index is not None and ignore_index in self.foreground:
            raise ValueError(f'ignore_index {ignore_index} cannot also be a '
                             'foreground label')
        self.ignore_index = ignore_index

    def _binarize(self, seg: np.ndarray) -> np.ndarray:
        out = np.isin(seg, self.foreground).astype(seg.dtype)
        if self.ignore_index is not None:
            out[seg == self.ignore_index] = self.ignore_index
        return out

    def transform(self, results: dict) -> dict:
        if results.get('gt_seg_map', None) is None:
            raise ValueError(
                'BinarizeLabel needs results["gt_seg_map"] (load the label '
                'map first); none for seg_map_path='
                f"{results.get('seg_map_path')!r}")
        for key in _seg_keys(results):
            results[key] = self._binarize(results[key])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(foreground={self.foreground}, '
                f'ignore_index={self.ignore_index})')
