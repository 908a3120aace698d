"""Unit tests of :class:`ClassifierHead` (``mmecho/models/decode_heads/
classifier_head.py``): the classifier conv alone on a full-resolution
feature map (the decode head of U-Net 1, RU-Net and SHG stages)."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.models import ClassifierHead
from mmecho.registry import MODELS

K = 4


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='ClassifierHead',
        in_channels=8,
        in_index=0,
        num_classes=K,
        loss_decode=dict(type='MultiClassDiceLoss', loss_name='loss_dice'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def samples(labels):
    out = []
    for lab in labels:
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(data=lab[None].long())
        ds.set_metainfo(dict(img_shape=lab.shape, ori_shape=lab.shape))
        out.append(ds)
    return out


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_shape_and_single_conv(kernel_size):
    head = build(kernel_size=kernel_size)
    assert isinstance(head, ClassifierHead)
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [head.conv_seg]
    assert head.conv_seg.kernel_size == (kernel_size, kernel_size)
    out = head([torch.rand(2, 8, 16, 24)])
    assert tuple(out.shape) == (2, K, 16, 24)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='odd'):
        build(kernel_size=2)
    with pytest.raises(ValueError, match='must equal in_channels'):
        build(channels=4)


@pytest.mark.parametrize('labels', ['random', 'background'])
def test_loss_finite_with_gradients(labels):
    head = build(kernel_size=3)
    torch.manual_seed(1)
    gt = torch.randint(0, K, (2, 16, 16)) if labels == 'random' else \
        torch.zeros(2, 16, 16)
    losses = head.loss([torch.rand(2, 8, 16, 16)], samples(gt), train_cfg={})
    assert set(losses) == {'loss_dice', 'acc_seg'}
    assert torch.isfinite(losses['loss_dice'])
    assert 0 < losses['loss_dice'].item() < 1
    losses['loss_dice'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0
