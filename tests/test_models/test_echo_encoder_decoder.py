"""Unit tests of :class:`EchoEncoderDecoder` (``mmecho/models/segmentors/
echo_encoder_decoder.py``): channel filling, shapes, losses (random, all
background, all ignored), the BatchNorm guard, ``predict`` and the CAMUS
post-processing. A tiny plain encoder (4..64 channels, strides 2..32) and
a U-Net head on 64 x 64 images; every architecture head of the CAMUS grid
on the same encoder."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.models import EchoEncoderDecoder, fill_in_channels
from mmecho.models.utils.batchnorm_guard import BatchNormSingleValueError
from mmecho.registry import MODELS

K = 4
LOSSES = [
    dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0),
    dict(type='MultiClassDiceLoss', loss_name='loss_dice')
]


def unet_cfg(**kwargs):
    cfg = dict(
        type='EchoEncoderDecoder',
        backbone=dict(type='PlainConvEncoder', base_channels=4),
        decode_head=dict(
            type='UNetHead',
            decoder_channels=(16, 8, 8, 4, 4),
            num_classes=K,
            align_corners=False,
            loss_decode=LOSSES),
        train_cfg=dict(),
        test_cfg=ConfigDict(mode='whole'))
    cfg.update(kwargs)
    return cfg


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(unet_cfg(**kwargs))


def samples(labels):
    out = []
    for lab in labels:
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(data=lab[None].long())
        h, w = lab.shape
        ds.set_metainfo(
            dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        out.append(ds)
    return out


def test_fill_in_channels():
    chans = (4, 8, 16, 32, 64)
    head = fill_in_channels(dict(type='UNetHead'), chans)
    assert head['in_channels'] == [4, 8, 16, 32, 64]
    assert head['in_index'] == [0, 1, 2, 3, 4]
    assert fill_in_channels(dict(type='X', in_index=4),
                            chans)['in_channels'] == 64
    assert fill_in_channels(dict(type='X', in_index=[1, 4]),
                            chans)['in_channels'] == [8, 64]
    # DeepLabV3+: the low-level input is the first selected level
    dl = fill_in_channels(
        dict(type='X', in_index=[0, 1], c1_in_channels=None), (24, 320))
    assert dl['in_channels'] == [24, 320] and dl['c1_in_channels'] == 24
    # necks take the whole list and no in_index
    neck = fill_in_channels(dict(type='SomeNeck'), chans)
    assert neck['in_channels'] == list(chans) and 'in_index' not in neck
    # given channels are kept, and the input config is not changed
    cfg = dict(type='X', in_channels=7)
    assert fill_in_channels(cfg, chans)['in_channels'] == 7
    cfg = dict(type='X')
    fill_in_channels(cfg, chans)
    assert cfg == dict(type='X')


def test_head_and_neck_channels_come_from_the_encoder():
    model = build()
    assert isinstance(model, EchoEncoderDecoder)
    assert model.decode_head.in_channels == [4, 8, 16, 32, 64]
    with_neck = build(neck=dict(type='mmdet.FPN', out_channels=8, num_outs=5))
    assert with_neck.neck.in_channels == [4, 8, 16, 32, 64]
    assert with_neck.decode_head.in_channels == [8] * 5
    x = torch.rand(2, 3, 64, 64)
    assert tuple(with_neck._forward(x).shape) == (2, K, 64, 64)


def test_shapes():
    model = build()
    x = torch.rand(2, 3, 64, 64)
    feats = model.extract_feat(x)
    assert [tuple(f.shape) for f in feats] == [(2, 4, 32, 32), (2, 8, 16, 16),
                                               (2, 16, 8, 8), (2, 32, 4, 4),
                                               (2, 64, 2, 2)]
    assert tuple(model._forward(x).shape) == (2, K, 64, 64)


def test_loss_keys_finite_and_gradients():
    model = build()
    torch.manual_seed(1)
    losses = model.loss(
        torch.rand(2, 3, 64, 64), samples(torch.randint(0, K, (2, 64, 64))))
    assert set(losses) == {
        'decode.loss_ce', 'decode.loss_dice', 'decode.acc_seg'
    }
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert losses['decode.loss_ce'].item() > 0
    (losses['decode.loss_ce'] + losses['decode.loss_dice']).backward()
    first = model.backbone.body[0][0].conv.weight.grad
    assert first is not None and first.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0


def test_all_background_and_all_ignored_labels():
    model = build()
    x = torch.rand(2, 3, 64, 64)
    bg = model.loss(x, samples(torch.zeros(2, 64, 64)))
    assert all(torch.isfinite(v).all() for v in bg.values())
    assert bg['decode.loss_ce'].item() > 0
    ignored = model.loss(x, samples(torch.full((2, 64, 64), 255)))
    assert ignored['decode.loss_ce'].item() == 0
    assert ignored['decode.loss_dice'].item() == 0


def test_single_value_batchnorm_is_explained():
    """Batch 1 at 32 x 32: the stride-32 level is 1 x 1."""
    model = build()
    model.train()
    with pytest.raises(BatchNormSingleValueError, match='batch size'):
        model.loss(torch.rand(1, 3, 32, 32), samples(torch.zeros(1, 32, 32)))


def test_predict_structure():
    model = build()
    model.eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        out = model.predict(x, samples(torch.zeros(2, 64, 64)))
    assert len(out) == 2
    for ds in out:
        assert tuple(ds.seg_logits.data.shape) == (K, 64, 64)
        pred = ds.pred_sem_seg.data
        assert tuple(pred.shape) == (1, 64, 64)
        assert torch.equal(pred[0], ds.seg_logits.data.argmax(0))


def _two_blobs_with_a_hole():
    """Logits whose argmax is class 1 in a 20 x 20 square with a 4 x 4 hole
    (background) and in a separate 3 x 3 square; class 2 in two 5 x 5
    squares; background elsewhere."""
    label = torch.zeros(64, 64, dtype=torch.long)
    label[10:30, 10:30] = 1
    label[18:22, 18:22] = 0
    label[50:53, 50:53] = 1
    label[40:45, 5:10] = 2
    label[40:45, 20:25] = 2
    return torch.nn.functional.one_hot(label, K).permute(
        2, 0, 1).float()[None] * 10, label


@pytest.mark.parametrize('test_cfg,changed', [
    (dict(mode='whole'), ()),
    (dict(mode='whole', largest_component=True, fill_holes=True), (1, 2)),
    (dict(
        mode='whole',
        largest_component=True,
        fill_holes=True,
        postprocess_classes=[1]), (1, )),
])
def test_camus_postprocessing(test_cfg, changed):
    model = build(test_cfg=test_cfg)
    logits, label = _two_blobs_with_a_hole()
    pred = model.postprocess_result(logits, samples(torch.zeros(1, 64, 64)))[0]
    pred = pred.pred_sem_seg.data[0]
    expected = label.clone()
    if 1 in changed:
        expected[18:22, 18:22] = 1  # hole filled
        expected[50:53, 50:53] = 0  # small blob removed
    if 2 in changed:  # equal areas: the first component is kept
        expected[40:45, 20:25] = 0
    assert torch.equal(pred.long(), expected)


# --- every architecture head of the CAMUS grid on the tiny encoder ---
ARCHS = {
    # configs/_base_/models/camus/<arch>.py: overrides of the head's widths
    'unet':
    dict(decoder_channels=(16, 8, 8, 4, 4)),
    'unetplusplus':
    dict(decoder_channels=(16, 8, 8, 4, 4)),
    'manet':
    dict(decoder_channels=(16, 8, 8, 4, 4), pab_channels=8),
    'linknet':
    dict(prefinal_channels=4),
    'fpn':
    dict(
        pyramid_channels=16,
        channels=8,
        norm_cfg=dict(type='GN', num_groups=4, requires_grad=True)),
    'pspnet':
    dict(channels=16),
    'pan':
    dict(decoder_channels=8),
    'deeplabv3':
    dict(channels=8, dilations=(2, 3, 4)),
    'deeplabv3plus':
    dict(channels=8, c1_channels=4, dilations=(2, 3, 4)),
}


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_grid_heads_on_a_tiny_encoder(arch, repo_root):
    """Output (2, 4, 64, 64) from ``_forward`` (PAN: 128 x 128); finite
    losses with all keys on random labels and on an all-background batch;
    gradients reach the encoder and the head."""
    cfg = Config.fromfile(
        osp.join(repo_root, 'configs', '_base_', 'models', 'camus',
                 f'{arch}.py')).model
    cfg.backbone.update(type='PlainConvEncoder', base_channels=4)
    cfg.decode_head.update(ARCHS[arch])
    cfg.data_preprocessor = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert isinstance(model, EchoEncoderDecoder)
    n = 128 if arch == 'pan' else 64  # PAN pools its stride-16 map 3x
    x = torch.rand(2, 3, n, n)
    assert tuple(model._forward(x).shape) == (2, K, n, n)
    for labels in (torch.randint(0, K, (2, n, n)), torch.zeros(2, n, n)):
        model.zero_grad()
        losses = model.loss(x, samples(labels))
        assert {'decode.loss_ce', 'decode.loss_dice'} <= set(losses)
        assert all(torch.isfinite(v).all() for v in losses.values())
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        first = model.backbone.body[0][0].conv.weight.grad
        assert first is not None and first.abs().sum() > 0
        assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
