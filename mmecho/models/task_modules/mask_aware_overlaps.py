# Copyright (c) mmecho contributors. All rights reserved.
"""Mask-aware IoU (maIoU, Oksuz et al. 2021, as used by RAMEM).

For a ground-truth box B with mask M and a box A (anchor or prediction)::

    w       = |M| / |B|                     (mask fill ratio of the box)
    I_ma    = |M ∩ A| / w                   (mask pixels inside A, rescaled)
    maIoU   = I_ma / (|A| + |B| - |A ∩ B|)  (over the ordinary box union)

|M ∩ A| is read from a zero-padded integral image of M at A's corners,
rounded to whole pixels and clamped to the mask grid, so one (G, N) matrix
costs four gathers. maIoU is set to 0 where the box IoU is 0. It equals the
box IoU when every mask fills its (integer) box, and may exceed it when the
mask is denser inside A than on average in B. A GT whose mask is empty is
scored with the plain box IoU.
"""
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from mmecho.registry import TASK_UTILS


def mask_integral_images(masks: Tensor) -> Tensor:
    """Zero-padded integral images.

    Args:
        masks (Tensor): (G, H, W) binary (bool/uint8) or soft (float) masks.

    Returns:
        Tensor: (G, H+1, W+1) with ``S[g, y, x] = masks[g, :y, :x].sum()``;
        int32 for binary masks (exact), float64 for soft masks.
    """
    if masks.dtype in (torch.bool, torch.uint8, torch.int8):
        dtype = torch.int32
    else:
        dtype = torch.float64
    g, h, w = masks.shape
    s = masks.new_zeros((g, h + 1, w + 1), dtype=dtype)
    rows = torch.cumsum(masks, 1, dtype=dtype)
    torch.cumsum(rows, 2, out=rows)
    s[:, 1:, 1:] = rows
    return s


def mask_aware_iou(boxes: Tensor,
                   gt_boxes: Tensor,
                   gt_masks: Tensor,
                   integral: Optional[Tensor] = None,
                   eps: float = 1e-6) -> Tensor:
    """maIoU between boxes and ground truths with masks.

    Args:
        boxes (Tensor): (N, 4) x1, y1, x2, y2 in pixels of the mask grid.
        gt_boxes (Tensor): (G, 4) in the same pixels.
        gt_masks (Tensor): (G, H, W) masks on the image grid.
        integral (Tensor, optional): :func:`mask_integral_images` of
            ``gt_masks``, to reuse across calls.

    Returns:
        Tensor: (N, G) maIoU in ``boxes``' dtype.
    """
    n, g = boxes.shape[0], gt_boxes.shape[0]
    if gt_masks.shape[0] != g:
        raise ValueError(f'maIoU got {g} GT boxes but {gt_masks.shape[0]} '
                         'GT masks')
    if n == 0 or g == 0:
        return boxes.new_zeros((n, g))
    h, w = gt_masks.shape[-2:]
    if integral is None:
        integral = mask_integral_images(gt_masks)
    area_a = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    area_b = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (
        gt_boxes[:, 3] - gt_boxes[:, 1])
    lt = torch.max(boxes[:, None, :2], gt_boxes[None, :, :2])
    rb = torch.min(boxes[:, None, 2:], gt_boxes[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = (area_a[:, None] + area_b[None] - inter).clamp(min=eps)
    box_iou = inter / union  # (N, G), as mmdet's bbox_overlaps

    corners = boxes.detach().round().long()
    x1 = corners[:, 0].clamp(0, w)
    x2 = corners[:, 2].clamp(0, w)
    y1 = corners[:, 1].clamp(0, h)
    y2 = corners[:, 3].clamp(0, h)
    flat = integral.flatten(1)  # (G, (H+1)(W+1))
    stride = w + 1

    def at(y: Tensor, x: Tensor) -> Tensor:
        return flat[:, y * stride + x]  # (G, N)

    mask_in_box = (at(y2, x2) - at(y1, x2) - at(y2, x1) + at(y1, x1))
    mask_in_box = mask_in_box.t().to(boxes.dtype)  # (N, G)
    mask_area = flat[:, -1].to(boxes.dtype)  # (G,)
    fill = mask_area / (area_b + eps)
    has_mask = mask_area > 0
    ma_inter = mask_in_box / fill.clamp(min=eps)[None]
    maiou = ma_inter / union
    maiou = torch.where(has_mask[None], maiou, box_iou)
    return torch.where(box_iou > 0, maiou, maiou.new_zeros(()))


@TASK_UTILS.register_module()
class MaskAwareOverlaps2D:
    """Overlap calculator that computes maIoU against ground-truth masks.

    A drop-in ``iou_calculator`` for mmdet's assigners (ATSSAssigner,
    SimOTAAssigner, DynamicSoftLabelAssigner, MaxIoUAssigner). Assigners call
    ``iou_calculator(boxes, gt_bboxes)``; the masks of those ground truths are
    bound for the duration of one assignment by the head with
    :func:`bind_gt_masks`. Without bound masks it raises, so a config that
    asks for maIoU can never silently fall back to box IoU.

    Args:
        gt_argument (int): Which positional argument holds the ground truths:
            1 for ATSS/SimOTA/DynamicSoftLabel (``(priors, gt)``), 0 for
            MaxIoUAssigner (``(gt, priors)``). Defaults to 1.
    """

    def __init__(self, gt_argument: int = 1) -> None:
        if gt_argument not in (0, 1):
            raise ValueError('gt_argument must be 0 or 1')
        self.gt_argument = gt_argument
        self._masks = None
        self._integral = None

    @contextmanager
    def bound(self, gt_masks: Tensor) -> Iterator[None]:
        """Use ``gt_masks`` (G, H, W) for the calls inside the block."""
        self._masks = gt_masks
        self._integral = mask_integral_images(gt_masks)
        try:
            yield
        finally:
            self._masks = None
            self._integral = None

    def __call__(self,
                 bboxes1: Tensor,
                 bboxes2: Tensor,
                 mode: str = 'iou',
                 is_aligned: bool = False) -> Tensor:
        if mode != 'iou' or is_aligned:
            raise ValueError('MaskAwareOverlaps2D computes pairwise maIoU '
                             f'only (got mode={mode!r}, is_aligned='
                             f'{is_aligned})')
        if self._masks is None:
            raise RuntimeError(
                'MaskAwareOverlaps2D was called without ground-truth masks: '
                'use it from a head that binds them (MaYOLACTHead)')
        bboxes1 = get_box_tensor(bboxes1)[..., :4]
        bboxes2 = get_box_tensor(bboxes2)[..., :4]
        if self.gt_argument == 1:
            return mask_aware_iou(bboxes1, bboxes2, self._masks,
                                  self._integral)
        return mask_aware_iou(bboxes2, bboxes1, self._masks,
                              self._integral).t()

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(gt_argument={self.gt_argument})'


@contextmanager
def bind_gt_masks(assigner, gt_masks: Optional[Tensor]) -> Iterator[bool]:
    """Bind ``gt_masks`` to ``assigner.iou_calculator`` if it is mask-aware.

    Yields:
        bool: whether the assigner uses maIoU.
    """
    calc = getattr(assigner, 'iou_calculator', None)
    if not isinstance(calc, MaskAwareOverlaps2D):
        yield False
        return
    if gt_masks is None:
        raise ValueError('the assigner uses maIoU but the ground truth has '
                         'no masks')
    with calc.bound(gt_masks):
        yield True
