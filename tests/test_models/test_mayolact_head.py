"""Unit tests of :class:`MaYOLACTHead` (``mmecho/models/dense_heads/
mayolact_head.py``), in the style of mmdet's
``tests/test_models/test_dense_heads/test_yolact_head.py``.

A tiny head: 3 classes, 5 prototypes, 16 channels, one square anchor per
location on two levels (strides 8 and 16) of a 64 x 64 image, so the feature
maps are 8 x 8 and 4 x 4.
"""
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures.mask import BitmapMasks
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmecho.models import MaYOLACTHead
from mmecho.registry import MODELS

K, P, C, S = 3, 5, 16, 64  # classes, prototypes, channels, image side
STRIDES = (8, 16)

ASSIGNERS = {
    'max_iou':
    dict(
        type='mmdet.MaxIoUAssigner',
        pos_iou_thr=0.5,
        neg_iou_thr=0.4,
        min_pos_iou=0.),
    'atss_maiou':
    dict(
        type='mmdet.ATSSAssigner',
        topk=9,
        iou_calculator=dict(type='MaskAwareOverlaps2D')),
    'simota':
    dict(type='mmdet.SimOTAAssigner', center_radius=2.5),
    'dynamic_soft_label':
    dict(type='mmdet.DynamicSoftLabelAssigner', topk=13),
}


def head_cfg(assigner='max_iou', type='MaYOLACTHead', **kwargs):
    cfg = dict(
        type=type,
        num_classes=K,
        in_channels=C,
        feat_channels=C,
        anchor_generator=dict(
            type='mmdet.AnchorGenerator',
            base_sizes=[16, 32],
            scales=[1.0],
            ratios=[1.0],
            strides=list(STRIDES),
            centers=[(s / 2, s / 2) for s in STRIDES]),
        bbox_coder=dict(
            type='mmdet.DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(
            type='mmdet.CrossEntropyLoss',
            use_sigmoid=False,
            reduction='none',
            loss_weight=1.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0, loss_weight=1.5),
        num_head_convs=1,
        num_protos=P,
        use_ohem=True,
        init_cfg=None,
        train_cfg=dict(
            assigner=ASSIGNERS[assigner],
            sampler=dict(type='mmdet.PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            neg_pos_ratio=3,
            debug=False),
        test_cfg=ConfigDict(
            nms_pre=100,
            min_bbox_size=0,
            score_thr=0.05,
            mask_thr=0.5,
            iou_thr=0.5,
            top_k=20,
            max_per_img=10,
            mask_thr_binary=0.5))
    cfg.update(kwargs)
    return cfg


def build_head(assigner='max_iou', **kwargs):
    torch.manual_seed(0)
    return MODELS.build(head_cfg(assigner, **kwargs))


def feats(batch=2):
    torch.manual_seed(1)
    return [torch.rand(batch, C, S // s, S // s) for s in STRIDES]


def metas(batch=2):
    return [
        dict(
            img_shape=(S, S),
            pad_shape=(S, S),
            batch_input_shape=(S, S),
            ori_shape=(S, S),
            scale_factor=(1.0, 1.0)) for _ in range(batch)
    ]


def gt_one():
    """One object of class 1: box (x1, y1, x2, y2) = (12, 10, 50, 40) and a
    mask that fills it."""
    mask = torch.zeros(1, S, S, dtype=torch.uint8)
    mask[0, 10:40, 12:50] = 1
    return InstanceData(
        bboxes=torch.tensor([[12., 10., 50., 40.]]),
        labels=torch.tensor([1]),
        masks=BitmapMasks(mask.numpy(), S, S))


def gt_empty():
    return InstanceData(
        bboxes=torch.zeros(0, 4),
        labels=torch.zeros(0, dtype=torch.long),
        masks=BitmapMasks(
            torch.zeros(0, S, S, dtype=torch.uint8).numpy(), S, S))


@pytest.mark.parametrize('coeff_kernel_size', [1, 3])
def test_forward_shapes(coeff_kernel_size):
    head = build_head(coeff_kernel_size=coeff_kernel_size)
    assert isinstance(head, MaYOLACTHead)
    assert head.conv_coeff.kernel_size == (coeff_kernel_size, ) * 2
    cls_scores, bbox_preds, coeff_preds = head(feats())
    # level l: (N, A*(K+1), S/s, S/s), (N, A*4, ...), (N, A*P, ...); A = 1
    sizes = [S // s for s in STRIDES]
    assert [tuple(t.shape) for t in cls_scores] == [(2, K + 1, n, n)
                                                    for n in sizes]
    assert [tuple(t.shape) for t in bbox_preds] == [(2, 4, n, n)
                                                    for n in sizes]
    assert [tuple(t.shape) for t in coeff_preds] == [(2, P, n, n)
                                                     for n in sizes]
    # coefficients are tanh'ed
    assert all(t.abs().max() <= 1 for t in coeff_preds)


def test_coeff_kernel_size_is_checked():
    with pytest.raises(ValueError, match='coeff_kernel_size'):
        build_head(coeff_kernel_size=2)


@pytest.mark.parametrize('assigner', sorted(ASSIGNERS))
def test_loss_with_one_object(assigner):
    head = build_head(assigner)
    head.train()
    outs = head(feats())
    losses = head.loss_by_feat(*outs, [gt_one(), gt_empty()], metas())
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    # OHEM: one value per image
    assert len(losses['loss_cls']) == len(losses['loss_bbox']) == 2
    values = [v.sum() for vs in losses.values() for v in vs]
    assert all(torch.isfinite(v) for v in values)
    # the image with the object has positives and both losses
    result = head._raw_positive_infos['sampling_results'][0]
    assert result.pos_inds.numel() > 0
    assert (result.pos_assigned_gt_inds == 0).all()
    assert losses['loss_cls'][0].item() > 0
    assert losses['loss_bbox'][0].item() > 0
    # the empty image: no positives, hence no hard negatives either
    assert losses['loss_cls'][1].item() == 0
    assert losses['loss_bbox'][1].item() == 0
    # the predictions stashed for prediction-aware assigners are dropped
    assert head._assign_inputs == {}
    sum(values).backward()
    for layer in (head.conv_cls, head.conv_reg, head.head_convs[0].conv):
        assert layer.weight.grad is not None
        assert layer.weight.grad.abs().sum() > 0


def test_mask_aware_assigner_needs_gt_masks():
    head = build_head('atss_maiou')
    gt = gt_one()
    del gt.masks
    with pytest.raises(ValueError, match='no masks'):
        head.loss_by_feat(*head(feats(1)), [gt], metas(1))


def test_empty_gt_gives_zero_losses_where_mmdet_trains_background():
    """mmdet's YOLACTHead with empty gt: cls loss > 0 over all negatives,
    box loss 0 (its test_yolact_head). MaYOLACTHead (RAMEM's OHEM): an
    image without positives contributes no negatives, so both are 0."""
    head = build_head()
    outs = head(feats())
    losses = head.loss_by_feat(*outs, [gt_empty(), gt_empty()], metas())
    for v in losses['loss_cls'] + losses['loss_bbox']:
        assert torch.isfinite(v).all()
        assert v.sum().item() == 0
    # still a graph to backpropagate through (a training step must not fail)
    sum(v.sum() for v in losses['loss_cls'] + losses['loss_bbox']).backward()

    mmdet_head = MODELS.build(head_cfg(type='mmdet.YOLACTHead'))
    ref = mmdet_head.loss_by_feat(*[[t.detach() for t in o] for o in outs],
                                  [gt_empty(), gt_empty()], metas())
    assert all(v.item() > 0 for v in ref['loss_cls'])
    assert all(v.item() == 0 for v in ref['loss_bbox'])


def test_ohem_keeps_neg_pos_ratio_hardest_negatives():
    """``OHEMloss_by_feat_single`` against cross-entropies computed here:
    positives + the 3 hardest negatives per positive, ignored anchors
    (weight 0) never count as negatives, divided by max(avg_factor, 1)."""
    head = build_head()
    torch.manual_seed(2)
    n = 12
    scores = torch.randn(n, K + 1)
    labels = torch.full((n, ), K)  # background
    labels[0] = 1
    weights = torch.ones(n)
    ce = F.cross_entropy(scores, labels, reduction='none')
    hardest = int(ce[1:].argmax()) + 1
    weights[hardest] = 0  # an ignored anchor
    zeros = torch.zeros(n, 4)
    loss_cls, loss_bbox = head.OHEMloss_by_feat_single(
        scores, zeros, zeros, labels, weights, zeros, zeros, avg_factor=1)
    negs = torch.cat([ce[1:hardest], ce[hardest + 1:]])
    expected = ce[0] + negs.topk(3)[0].sum()
    torch.testing.assert_close(loss_cls, expected[None])
    assert loss_bbox.item() == 0
    # avg_factor 0 is taken as 1; 4 divides
    same, _ = head.OHEMloss_by_feat_single(
        scores, zeros, zeros, labels, weights, zeros, zeros, avg_factor=0)
    torch.testing.assert_close(same, loss_cls)
    quarter, _ = head.OHEMloss_by_feat_single(
        scores, zeros, zeros, labels, weights, zeros, zeros, avg_factor=4)
    torch.testing.assert_close(quarter, loss_cls / 4)
    # no positive: zero, however hard the negatives
    bg = torch.full((n, ), K)
    none, _ = head.OHEMloss_by_feat_single(
        scores, zeros, zeros, bg, weights, zeros, zeros, avg_factor=1)
    assert none.item() == 0


def test_images_without_objects_do_not_change_the_divisor():
    """The module docstring: losses are divided by max(#positives, 1). An
    empty image added to the batch contributes nothing, so the loss of the
    image with the object is unchanged."""
    head = build_head()
    f = feats(2)
    alone = head.loss_by_feat(*head([x[:1] for x in f]), [gt_one()], metas(1))
    mixed = head.loss_by_feat(*head(f), [gt_one(), gt_empty()], metas(2))
    torch.testing.assert_close(mixed['loss_cls'][0], alone['loss_cls'][0])
    torch.testing.assert_close(mixed['loss_bbox'][0], alone['loss_bbox'][0])


def test_predict_by_feat_structure():
    head = build_head()
    head.eval()
    with torch.no_grad():
        outs = head(feats())
        results = head.predict_by_feat(*outs, metas(), rescale=False)
    assert len(results) == 2
    for res in results:
        assert set(res.keys()) == {'bboxes', 'scores', 'labels', 'coeffs'}
        n = len(res)
        assert 0 < n <= 10  # max_per_img
        assert res.bboxes.shape == (n, 4)
        assert res.coeffs.shape == (n, P)
        assert res.labels.dtype == torch.long
        assert ((res.labels >= 0) & (res.labels < K)).all()
        assert (res.scores >= 0.05).all()  # score_thr
        assert (res.scores[:-1] >= res.scores[1:]).all()  # sorted
        # boxes decoded inside the image (x1 <= x2, y1 <= y2)
        assert (res.bboxes >= 0).all() and (res.bboxes <= S).all()
        assert (res.bboxes[:, 2:] >= res.bboxes[:, :2]).all()


# --- the head in RAMEM's model (mmdet's YOLACT, UPANet, FPN, protonet) ---
@pytest.fixture(scope='module')
def ramem(repo_root):
    """configs/_base_/models/mayolact_upanet80.py with UPANet8, 16-channel
    FPN and head, 5 prototypes."""
    import os.path as osp

    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(repo_root, 'configs', '_base_', 'models',
                 'mayolact_upanet80.py')).model
    w, f = 8, 16
    cfg.backbone.width = w
    cfg.neck.in_channels = [4 * w, 8 * w, 16 * w]
    cfg.neck.out_channels = f
    cfg.bbox_head.update(in_channels=f, feat_channels=f, num_protos=P)
    cfg.mask_head.update(
        in_channels=f, num_protos=P, proto_channels=(f, f, f, None, f, P))
    torch.manual_seed(0)
    return MODELS.build(cfg)


def det_sample(with_object, ori=(S, S), img=(S, S), scale=1.0):
    from mmdet.structures import DetDataSample
    ds = DetDataSample()
    ds.gt_instances = gt_one() if with_object else gt_empty()
    ds.set_metainfo(
        dict(
            img_shape=img,
            pad_shape=(S, S),
            batch_input_shape=(S, S),
            ori_shape=ori,
            scale_factor=(scale, scale)))
    return ds


def test_ramem_model_losses(ramem):
    assert isinstance(ramem.bbox_head, MaYOLACTHead)
    ramem.train()
    torch.manual_seed(4)
    x = torch.rand(2, 3, S, S)
    losses = ramem.loss(x, [det_sample(True), det_sample(False)])
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_mask', 'loss_segm'}
    for name, values in losses.items():
        assert len(values) == 2, name
        assert all(torch.isfinite(v).all() for v in values), name
        assert values[0].sum().item() > 0, name  # the image with the object
        assert values[1].sum().item() == 0, name  # the empty image
    sum(v.sum() for vs in losses.values() for v in vs).backward()
    for module in (ramem.backbone.stem, ramem.neck, ramem.bbox_head.conv_coeff,
                   ramem.mask_head.protonet):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0
    ramem.zero_grad()
    # a batch without any object: every loss exactly zero
    losses = ramem.loss(x, [det_sample(False), det_sample(False)])
    assert all(v.sum().item() == 0 for vs in losses.values() for v in vs)


def test_ramem_model_predicts_instances_on_the_original_image(ramem):
    """A 128 x 64 (w x h) original resized by 0.5 to 64 x 32 and padded to
    64 x 64: masks (n, 64, 128) bool, boxes (n, 4), scores, labels."""
    ramem.eval()
    torch.manual_seed(5)
    x = torch.rand(1, 3, S, S)
    x[..., S // 2:, :] = 0  # the padding
    with torch.no_grad():
        out = ramem.predict(
            x, [det_sample(False, ori=(64, 128), img=(32, 64), scale=0.5)])
    pred = out[0].pred_instances
    n = len(pred)
    assert 0 < n <= 100  # test_cfg.max_per_img
    assert pred.masks.shape == (n, 64, 128) and pred.masks.dtype == torch.bool
    assert pred.bboxes.shape == (n, 4)
    assert ((pred.labels >= 0) & (pred.labels < 4)).all()
    assert (pred.scores >= 0.05).all()  # test_cfg.score_thr
    # boxes in original pixels: inside the 128 x 64 image
    assert (pred.bboxes[:, 0::2] <= 128 + 1e-3).all()
    assert (pred.bboxes[:, 1::2] <= 64 + 1e-3).all()
