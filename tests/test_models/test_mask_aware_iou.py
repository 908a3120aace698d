import numpy as np
import pytest
import torch
from mmdet.structures.bbox import bbox_overlaps

from mmecho.models.task_modules import (MaskAwareOverlaps2D, bind_gt_masks,
                                        mask_aware_iou)


def random_boxes(rng, n, h, w, integer=True):
    x1 = rng.integers(0, w - 2, n)
    y1 = rng.integers(0, h - 2, n)
    x2 = np.minimum(x1 + rng.integers(1, w // 2, n), w)
    y2 = np.minimum(y1 + rng.integers(1, h // 2, n), h)
    boxes = np.stack([x1, y1, x2, y2], 1).astype(np.float64)
    if not integer:
        boxes += rng.uniform(-0.4, 0.4, boxes.shape)
        boxes = np.clip(boxes, 0, [w, h, w, h])
    return torch.from_numpy(boxes)


def brute_force(boxes, gt_boxes, masks):
    """Pixel counting, one pair at a time."""
    out = torch.zeros(len(boxes), len(gt_boxes), dtype=torch.float64)
    iou = bbox_overlaps(boxes, gt_boxes)
    for j, (b, m) in enumerate(zip(gt_boxes.tolist(), masks)):
        area_b = (b[2] - b[0]) * (b[3] - b[1])
        fill = float(m.sum()) / area_b
        for i, a in enumerate(boxes.tolist()):
            if iou[i, j] <= 0:
                continue
            x1, y1, x2, y2 = (int(round(v)) for v in a)
            inside = float(m[max(y1, 0):max(y2, 0),
                             max(x1, 0):max(x2, 0)].sum())
            area_a = (a[2] - a[0]) * (a[3] - a[1])
            iw = max(0., min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0., min(a[3], b[3]) - max(a[1], b[1]))
            union = area_a + area_b - iw * ih
            out[i, j] = inside / fill / union
    return out


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_equals_box_iou_when_masks_fill_boxes(dtype):
    rng = np.random.default_rng(0)
    h, w = 60, 80
    gt = random_boxes(rng, 5, h, w).to(dtype)
    boxes = random_boxes(rng, 40, h, w).to(dtype)
    masks = torch.zeros(5, h, w, dtype=torch.bool)
    for m, b in zip(masks, gt.long().tolist()):
        m[b[1]:b[3], b[0]:b[2]] = True
    ma = mask_aware_iou(boxes, gt, masks)
    assert ma.dtype == dtype
    torch.testing.assert_close(
        ma, bbox_overlaps(boxes, gt), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('soft', [False, True])
def test_matches_brute_force_on_random_masks(soft):
    rng = np.random.default_rng(1)
    h, w = 50, 70
    gt = random_boxes(rng, 4, h, w)
    boxes = random_boxes(rng, 60, h, w, integer=False)
    masks = torch.zeros(4, h, w, dtype=torch.float64)
    for m, b in zip(masks, gt.long().tolist()):
        region = torch.from_numpy(
            rng.random((b[3] - b[1], b[2] - b[0])) < 0.4).double()
        if soft:
            region = region * torch.from_numpy(rng.random(region.shape))
        m[b[1]:b[3], b[0]:b[2]] = region
        m[b[1], b[0]] = 1  # never empty
    masks_in = masks if soft else masks.bool()
    ma = mask_aware_iou(boxes, gt, masks_in)
    ref = brute_force(boxes, gt, masks.numpy())
    torch.testing.assert_close(ma, ref, rtol=1e-6, atol=1e-8)
    assert (ma > 0).any()


def test_zero_for_disjoint_boxes():
    gt = torch.tensor([[0., 0., 10., 10.]])
    masks = torch.ones(1, 40, 40, dtype=torch.bool)  # mask spills over
    boxes = torch.tensor([[20., 20., 30., 30.], [10., 0., 20., 10.]])
    assert mask_aware_iou(boxes, gt, masks).eq(0).all()


def test_empty_mask_falls_back_to_box_iou_and_empty_inputs():
    gt = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([[5., 5., 15., 15.]])
    masks = torch.zeros(1, 20, 20, dtype=torch.bool)
    torch.testing.assert_close(
        mask_aware_iou(boxes, gt, masks), bbox_overlaps(boxes, gt))
    assert mask_aware_iou(boxes[:0], gt, masks).shape == (0, 1)
    assert mask_aware_iou(boxes, gt[:0], masks[:0]).shape == (1, 0)
    with pytest.raises(ValueError, match='GT masks'):
        mask_aware_iou(boxes, gt, masks[:0])


def test_calculator_needs_bound_masks_and_binds_per_assignment():
    calc = MaskAwareOverlaps2D()
    gt = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([[0., 0., 10., 5.]])
    with pytest.raises(RuntimeError, match='without ground-truth masks'):
        calc(boxes, gt)
    masks = torch.zeros(1, 20, 20, dtype=torch.bool)
    masks[0, :5, :10] = True  # the top half of the box: all in the anchor

    class Assigner:
        iou_calculator = calc

    with bind_gt_masks(Assigner(), masks) as uses_maiou:
        assert uses_maiou
        # IoU 0.5, but all the mask lies in the anchor: maIoU = 1
        assert calc(boxes, gt).item() == pytest.approx(1.0)
        # MaxIoUAssigner passes (gt, boxes)
        assert MaskAwareOverlaps2D(gt_argument=0) is not None
    with pytest.raises(RuntimeError):
        calc(boxes, gt)


def test_gt_first_argument_for_max_iou_assigner():
    """``gt_argument=0``: called as ``(gt, priors)`` (MaxIoUAssigner) it
    returns the (G, N) maIoU, computed here by hand."""
    from mmdet.models.task_modules.assigners import MaxIoUAssigner
    from mmengine.structures import InstanceData
    gt = torch.tensor([[0., 0., 10., 10.], [10., 10., 20., 20.]])
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[0, :5, :10] = True  # GT 1: top half of its box, |M| 50, fill 0.5
    masks[1, 10:20, 10:20] = True  # GT 2: fills its box, fill 1
    priors = torch.tensor([
        [0., 0., 10., 5.],  # top half of GT 1: 50 mask px / 0.5 / 100
        [0., 5., 10., 10.],  # bottom half of GT 1: no mask px
        [5., 0., 15., 10.],  # 25 mask px / 0.5 / (100 + 100 - 50)
        [20., 20., 30., 30.],  # touches GT 2 at a corner only
        [12., 12., 20., 20.],  # inside GT 2: 64 / 100
    ])
    expected = torch.tensor([[1.0, 0.0, 1 / 3, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.64]])
    calc0 = MaskAwareOverlaps2D(gt_argument=0)
    calc1 = MaskAwareOverlaps2D(gt_argument=1)
    with calc0.bound(masks), calc1.bound(masks):
        got = calc0(gt, priors)
        assert got.shape == (2, 5)
        torch.testing.assert_close(got, expected)
        torch.testing.assert_close(calc1(priors, gt), expected.t())
    assert 'gt_argument=0' in repr(calc0)

    # through mmdet's MaxIoUAssigner: at pos_iou_thr 0.6, prior 0 is
    # positive by maIoU (1.0) though its box IoU is only 0.5
    assigner = MaxIoUAssigner(
        pos_iou_thr=0.6, neg_iou_thr=0.4, min_pos_iou=0.6,
        match_low_quality=False)
    assigner.iou_calculator = calc0

    class Holder:
        iou_calculator = calc0

    with bind_gt_masks(Holder(), masks) as uses_maiou:
        assert uses_maiou
        result = assigner.assign(
            InstanceData(priors=priors),
            InstanceData(bboxes=gt, labels=torch.tensor([0, 1])))
    # 1-based GT index, 0 = negative
    assert result.gt_inds.tolist() == [1, 0, 0, 0, 2]
    torch.testing.assert_close(result.max_overlaps,
                               torch.tensor([1.0, 0.0, 1 / 3, 0.0, 0.64]))
    # with box IoU (0.5, between the thresholds) prior 0 is ignored (-1)
    plain = MaxIoUAssigner(pos_iou_thr=0.6, neg_iou_thr=0.4,
                           min_pos_iou=0.6, match_low_quality=False)
    assert plain.assign(
        InstanceData(priors=priors),
        InstanceData(bboxes=gt, labels=torch.tensor([0, 1]))).gt_inds[0] == -1
