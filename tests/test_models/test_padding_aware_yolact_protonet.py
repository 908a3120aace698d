"""Unit tests of :class:`PaddingAwareYOLACTProtonet` (``mmecho/models/
dense_heads/padding_aware_yolact_protonet.py``): prototype shapes, losses
with and without objects, and the two places where it departs from mmdet's
:class:`YOLACTProtonet` (crop boxes normalised by the padded input, masks
cut back from the padded canvas at test time)."""
import pytest
import torch
from mmdet.structures.mask import BitmapMasks
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmecho.models import PaddingAwareYOLACTProtonet
from mmecho.registry import MODELS

K, P, C = 3, 5, 8  # classes, prototypes, channels


def build(type='PaddingAwareYOLACTProtonet'):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type=type,
            num_classes=K,
            in_channels=C,
            proto_channels=(C, C, C, None, C, P),
            num_protos=P,
            max_masks_to_train=100,
            loss_mask_weight=6.125,
            with_seg_branch=True,
            loss_segm=dict(
                type='mmdet.CrossEntropyLoss',
                use_sigmoid=True,
                loss_weight=1.0),
            test_cfg=ConfigDict(mask_thr=0.5, mask_thr_binary=0.5),
            init_cfg=None))


def positive_infos(num_pos, boxes):
    torch.manual_seed(3)
    return InstanceData(
        coeffs=torch.rand(num_pos, P) * 2 - 1,
        bboxes=boxes,
        pos_assigned_gt_inds=torch.zeros(num_pos, dtype=torch.long),
        pos_inds=torch.arange(num_pos))


def test_forward_shapes():
    """Features (B, C, h, w) at stride 8 -> per image (2h, 2w, #positives)
    masks in [0, 1] (prototypes at stride 4) and, in training, semantic
    logits (B, K, h, w)."""
    head = build()
    head.train()
    x = torch.rand(2, C, 8, 8)
    box = torch.tensor([[8., 8., 40., 40.]])
    infos = [positive_infos(3, box.repeat(3, 1)), positive_infos(0, box[:0])]
    masks, segm = head((x, ), infos)
    assert [tuple(m.shape) for m in masks] == [(16, 16, 3), (16, 16, 0)]
    assert ((masks[0] >= 0) & (masks[0] <= 1)).all()
    assert tuple(segm.shape) == (2, K, 8, 8)
    head.eval()
    assert head((x, ), infos)[1] is None  # no semantic branch at test time


def _gt(n, size=64):
    m = torch.zeros(n, size, size, dtype=torch.uint8)
    if n:
        m[0, 8:40, 8:40] = 1
    return InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.]])[:n],
        labels=torch.tensor([1])[:n],
        masks=BitmapMasks(m.numpy(), size, size))


def test_losses_with_and_without_objects():
    head = build()
    head.train()
    x = torch.rand(2, C, 8, 8)
    box = torch.tensor([[8., 8., 40., 40.]])
    infos = [positive_infos(2, box.repeat(2, 1)), positive_infos(0, box[:0])]
    metas = [dict(img_shape=(64, 64), pad_shape=(64, 64))] * 2
    masks, segm = head((x, ), infos)
    losses = head.loss_by_feat(masks, segm, [_gt(1), _gt(0)], metas, infos)
    assert set(losses) == {'loss_mask', 'loss_segm'}
    assert len(losses['loss_mask']) == len(losses['loss_segm']) == 2
    assert all(torch.isfinite(v) for vs in losses.values() for v in vs)
    assert losses['loss_mask'][0].item() > 0
    assert losses['loss_segm'][0].item() > 0
    # mmdet's documented values for an image without objects: both zero
    assert losses['loss_mask'][1].item() == 0
    assert losses['loss_segm'][1].item() == 0
    sum(v for vs in losses.values() for v in vs).backward()
    convs = [m for m in head.protonet if isinstance(m, torch.nn.Conv2d)]
    assert all(c.weight.grad.abs().sum() > 0 for c in convs)


def test_crop_normalises_boxes_by_the_padded_input():
    """Image 32 x 64 (h x w) padded to 64 x 64; prototypes cover the padded
    input at 16 x 16. A box over the top-left 32 x 32 pixels is the top-left
    8 x 8 prototype cells (+1 cell of mmdet's crop padding), not 8 x 16."""
    head = build()
    ones = [torch.ones(16, 16, 1)]
    info = [InstanceData(bboxes=torch.tensor([[0., 0., 32., 32.]]))]
    meta = [dict(img_shape=(32, 64), pad_shape=(64, 64))]
    cropped = head.crop_mask_preds(ones, meta, info)[0][0]
    expected = torch.zeros(16, 16)
    expected[:9, :9] = 1
    assert torch.equal(cropped, expected)
    # batch_input_shape wins over pad_shape (the padded batch canvas)
    meta = [
        dict(
            img_shape=(32, 64), pad_shape=(32, 64), batch_input_shape=(64, 64))
    ]
    assert torch.equal(head.crop_mask_preds(ones, meta, info)[0][0], expected)
    # mmdet's protonet divides by img_shape: the box reaches the bottom of
    # the padded canvas (all 16 rows)
    mmdet_head = build('mmdet.YOLACTProtonet')
    meta = [dict(img_shape=(32, 64), pad_shape=(64, 64))]
    theirs = mmdet_head.crop_mask_preds(ones, meta, info)[0][0]
    expected[:, :9] = 1
    assert torch.equal(theirs, expected)


def test_predict_cuts_the_image_out_of_the_padded_canvas():
    """A 64 x 128 (h x w) original resized by 0.5 to 32 x 64 and padded to
    64 x 64: the masks cover the padded canvas; the prediction is the
    canvas at the original scale cut to 64 x 128. Mask value 1 over the
    image part of the canvas and 0 over the padding gives an all-True
    mask; mmdet's protonet stretched the whole canvas onto the image."""
    head = build()
    mask = torch.zeros(1, 16, 16)
    mask[:, :8] = 1  # the image rows (32 of 64 padded rows)
    meta = dict(
        img_shape=(32, 64),
        pad_shape=(64, 64),
        ori_shape=(64, 128),
        scale_factor=(0.5, 0.5))
    boxes = torch.tensor([[0., 0., 64., 32.]])
    out = head._predict_by_feat_single(mask, boxes.clone(), meta, True)
    assert out.shape == (1, 64, 128) and out.dtype == torch.bool
    assert out.all()
    # boxes are rescaled in place to the original image
    scaled = boxes.clone()
    head._predict_by_feat_single(mask, scaled, meta, True)
    torch.testing.assert_close(scaled, torch.tensor([[0., 0., 128., 64.]]))
    # without rescale: the network-input image, 32 x 64
    out = head._predict_by_feat_single(mask, boxes.clone(), meta, False)
    assert out.shape == (1, 32, 64) and out.all()
    theirs = build('mmdet.YOLACTProtonet')._predict_by_feat_single(
        mask, boxes.clone(), meta, True)
    assert theirs.shape == (1, 64, 128)
    assert theirs.float().mean().item() == pytest.approx(0.5, abs=0.05)


def test_missing_shapes_are_reported():
    head = build()
    with pytest.raises(KeyError, match='img_shape'):
        head.crop_mask_preds([torch.ones(4, 4, 1)], [dict()],
                             [InstanceData(bboxes=torch.zeros(1, 4))])


def test_is_the_public_class():
    assert isinstance(build(), PaddingAwareYOLACTProtonet)
