# Copyright (c) mmecho contributors. All rights reserved.
from .mask_aware_overlaps import (MaskAwareOverlaps2D, bind_gt_masks,
                                  mask_aware_iou, mask_integral_images)

__all__ = [
    'MaskAwareOverlaps2D', 'bind_gt_masks', 'mask_aware_iou',
    'mask_integral_images'
]
