# Copyright (c) mmecho contributors. All rights reserved.
"""Make the current image size the "original" one for evaluation."""
from mmcv.transforms import BaseTransform

from mmecho.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ResetOriginalShape(BaseTransform):
    """Set ``results['ori_shape'] = results['img'].shape[:2]`` (H, W).

    mmseg resizes predictions back to ``ori_shape`` before the metric. Put
    after a ``Resize`` (and after the label map is resized with it), this
    makes predictions be scored at the network's resolution instead of the
    file's: the thesis (paper 002) scored its masks at 256x256. Nothing else
    changes; deterministic (no ``prob``).
    """

    def transform(self, results: dict) -> dict:
        results['ori_shape'] = tuple(results['img'].shape[:2])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
