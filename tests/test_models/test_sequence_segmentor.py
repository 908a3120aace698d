"""Unit tests of the 2D+time model: :class:`UNet3D` (``mmecho/models/
backbones/unet3d.py``) and :class:`SequenceSegmentor` (``mmecho/models/
segmentors/sequence_segmentor.py``) on (1, 4, 16, 16) sequences."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmecho.models import SequenceSegmentor, UNet3D
from mmecho.registry import MODELS

K = 4


def unet3d(**kwargs):
    cfg = dict(channels=(4, 8, 8), pool_kernels=((1, 2, 2), (2, 2, 2)))
    cfg.update(kwargs)
    return UNet3D(**cfg)


def test_unet3d_shapes_and_divisor():
    torch.manual_seed(0)
    net = unet3d()
    assert net.divisor() == (2, 4, 4)
    assert net.out_channels == 4
    # pooled twice in space, once in time
    assert [tuple(u.kernel_size) for u in net.up] == [(2, 2, 2), (1, 2, 2)]
    out = net(torch.rand(2, 1, 4, 16, 12))
    assert tuple(out.shape) == (2, 4, 4, 16, 12)
    with pytest.raises(ValueError, match=r'divisible by \(2, 4, 4\)'):
        net(torch.rand(1, 1, 3, 16, 16))
    with pytest.raises(ValueError, match='pool_kernels'):
        unet3d(pool_kernels=((1, 2, 2), ))


def test_unet3d_skips_connect_each_level():
    net = unet3d()
    # decoder blocks see the upsampled deeper level + the encoder level
    assert [b[0].conv.in_channels for b in net.dec] == [2 * 8, 2 * 4]


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='SequenceSegmentor',
        backbone=dict(
            type='UNet3D',
            channels=(4, 8, 8),
            pool_kernels=((1, 2, 2), (2, 2, 2))),
        num_classes=K)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def sequence_sample(labels, num_frames=None, ori=(16, 16), gt=None):
    """``labels`` (T', H', W') at network resolution; ``num_frames`` and
    ``ori`` the original sequence size."""
    t = labels.shape[0] if num_frames is None else num_frames
    ds = BaseDataElement(
        metainfo=dict(
            patient='patient0001',
            view='4CH',
            num_frames=t,
            ori_shape=ori,
            spacing=(0.3, 0.3),
            img_path='p.nii.gz'))
    ds.labels = labels.long()
    if gt is not None:
        ds.gt = gt
    return ds


def test_tensor_mode_shape():
    model = build()
    assert isinstance(model, SequenceSegmentor)
    x = [torch.rand(1, 4, 16, 16), torch.rand(1, 4, 16, 16)]
    logits = model(x, mode='tensor')
    assert tuple(logits.shape) == (2, K, 4, 16, 16)


def test_loss_keys_finite_and_gradients():
    model = build()
    torch.manual_seed(1)
    x = [torch.rand(1, 4, 16, 16) for _ in range(2)]
    labels = torch.randint(0, K, (2, 4, 16, 16))
    losses = model(x, [sequence_sample(lab) for lab in labels], mode='loss')
    assert set(losses) == {'loss_ce', 'loss_dice'}
    assert all(torch.isfinite(v) and v.item() > 0 for v in losses.values())
    sum(losses.values()).backward()
    first = model.backbone.enc[0][0].conv.weight.grad
    assert first is not None and first.abs().sum() > 0
    assert model.cls.weight.grad.abs().sum() > 0


def test_all_background_and_ignored_labels():
    model = build()
    x = [torch.rand(1, 4, 16, 16)]
    bg = model(x, [sequence_sample(torch.zeros(4, 16, 16))], mode='loss')
    assert all(torch.isfinite(v) for v in bg.values())
    assert bg['loss_ce'].item() > 0
    # 255 is ignored by both losses: nothing left, both exactly zero
    ignored = model(
        x, [sequence_sample(torch.full((4, 16, 16), 255))], mode='loss')
    assert ignored['loss_ce'].item() == 0
    assert ignored['loss_dice'].item() == 0


def test_predict_one_sample_per_original_frame():
    """The network saw 4 frames of 16 x 16; the original sequence has 6
    frames of 20 x 24: six SegDataSamples with (1, 20, 24) predictions,
    ED first, ES last, the original labels as ``gt_sem_seg``."""
    model = build()
    model.eval()
    gt = np.random.RandomState(0).randint(0, K, (6, 20, 24)).astype(np.uint8)
    ds = sequence_sample(
        torch.zeros(4, 16, 16), num_frames=6, ori=(20, 24), gt=gt)
    with torch.no_grad():
        out = model([torch.rand(1, 4, 16, 16)], [ds], mode='predict')
    assert len(out) == 6
    assert [s.instant for s in out] == ['ED', 't01', 't02', 't03', 't04', 'ES']
    assert [s.frame_index for s in out] == list(range(6))
    for t, s in enumerate(out):
        assert s.patient == 'patient0001' and s.view == '4CH'
        assert s.num_frames == 6 and s.ori_shape == (20, 24)
        assert s.spacing == (0.3, 0.3)
        pred = s.pred_sem_seg.data
        assert tuple(pred.shape) == (1, 20, 24) and pred.dtype == torch.uint8
        assert int(pred.max()) < K
        assert torch.equal(s.gt_sem_seg.data[0],
                           torch.from_numpy(gt[t]).long())


def test_unknown_mode():
    with pytest.raises(RuntimeError, match='Invalid mode'):
        build()([torch.rand(1, 4, 16, 16)], mode='other')
