"""Unit tests of the cascades in ``mmecho/models/segmentors/
cascade_segmentor.py``: :class:`RUNet` (RU-Net) and :class:`StackedUNets`
(SHG), built from tiny light U-Nets (4/8 channels, two poolings) on
32 x 32 images. The paper configurations are tested in ``test_runet.py``.
"""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.models import RUNet, StackedUNets
from mmecho.registry import MODELS

K, N = 4, 32  # classes, image side


def stage(in_channels=3):
    return dict(
        backbone=dict(
            type='LightUNet',
            in_channels=in_channels,
            encoder_channels=(4, 8, 8),
            decoder_channels=(8, 4),
            norm_cfg=None),
        decode_head=dict(
            type='ClassifierHead',
            in_channels=4,
            in_index=0,
            num_classes=K,
            align_corners=False,
            loss_decode=dict(type='MultiClassDiceLoss',
                             loss_name='loss_dice')))


def build(type='RUNet', stages=None, **kwargs):
    torch.manual_seed(0)
    if stages is None:
        stages = [stage(), stage()] if type == 'RUNet' else \
            [stage(), stage(3 + K), stage(3 + K)]
    cfg = dict(type=type, stages=stages, test_cfg=ConfigDict(mode='whole'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


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


def test_configuration_errors():
    with pytest.raises(ValueError, match='at least two stages'):
        build(stages=[stage()])
    with pytest.raises(ValueError, match='one weight per stage'):
        build(loss_weights=(1.0, ))


@pytest.mark.parametrize('type,num', [('RUNet', 2), ('StackedUNets', 3)])
def test_every_stage_outputs_logits_at_image_size(type, num):
    model = build(type)
    assert isinstance(model, RUNet if type == 'RUNet' else StackedUNets)
    outs = model.forward_stages(torch.rand(2, 3, N, N))
    assert [tuple(o.shape) for o in outs] == [(2, K, N, N)] * num


def test_a_stage_at_half_resolution_is_upsampled():
    half = dict(
        backbone=dict(type='PlainConvEncoder', base_channels=4),
        decode_head=dict(
            type='UNetHead',
            decoder_channels=(8, 8, 4, 4),  # four blocks: stride 2
            num_classes=K,
            align_corners=False,
            loss_decode=dict(type='MultiClassDiceLoss')))
    model = build(stages=[stage(), half])
    x = torch.rand(2, 3, N, N)
    direct = model.stages[1].decode_head(model.stages[1].extract_feat(x))
    assert tuple(direct.shape) == (2, K, N // 2, N // 2)
    assert [tuple(o.shape)
            for o in model.forward_stages(x)] == [(2, K, N, N)] * 2


@pytest.mark.parametrize('type', ['RUNet', 'StackedUNets'])
def test_losses_per_output_and_weights(type):
    num = 2 if type == 'RUNet' else 3
    x = torch.rand(2, 3, N, N)
    torch.manual_seed(1)
    gt = torch.randint(0, K, (2, N, N))
    plain = build(type).loss(x, samples(gt))
    assert set(plain) == {
        f'o{k}.{name}'
        for k in range(1, num + 1)
        for name in ('loss_dice', 'acc_seg')
    }
    assert all(torch.isfinite(v).all() for v in plain.values())
    weights = [0.5, 2.0, 3.0][:num]
    weighted = build(type, loss_weights=weights).loss(x, samples(gt))
    for k, w in enumerate(weights, 1):
        torch.testing.assert_close(weighted[f'o{k}.loss_dice'],
                                   w * plain[f'o{k}.loss_dice'])
        torch.testing.assert_close(weighted[f'o{k}.acc_seg'],
                                   plain[f'o{k}.acc_seg'])  # not a loss


@pytest.mark.parametrize('type', ['RUNet', 'StackedUNets'])
def test_all_background_labels(type):
    model = build(type)
    losses = model.loss(torch.rand(2, 3, N, N), samples(torch.zeros(2, N, N)))
    assert all(torch.isfinite(v).all() for v in losses.values())
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert total.item() > 0
    total.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_shg_last_loss_reaches_the_first_unet():
    """SHG stages see the previous softmax without detaching: the last
    output's loss trains the first U-Net too (end to end)."""
    model = build('StackedUNets', loss_weights=(0.0, 0.0, 1.0))
    losses = model.loss(torch.rand(2, 3, N, N), samples(torch.zeros(2, N, N)))
    losses['o3.loss_dice'].backward()
    grads = [p.grad for p in model.stages[0].parameters()]
    assert all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_shg_stage_input_is_image_and_softmax():
    model = build('StackedUNets')
    x = torch.rand(2, 3, N, N)
    logits = torch.randn(2, K, N, N)
    assert model.stage_input(0, x, None) is x
    y = model.stage_input(1, x, logits)
    assert tuple(y.shape) == (2, 3 + K, N, N)
    torch.testing.assert_close(y[:, :3], x)
    torch.testing.assert_close(y[:, 3:].sum(1), torch.ones(2, N, N))


@pytest.mark.parametrize('background_index', [0, 2])
def test_runet_masks_the_image_by_the_roi(background_index):
    """Certain background everywhere: the ROI is empty and the mask is the
    second sigmoid at 0, sigmoid(-1) (the image is dimmed to 27 % towards
    ``image_black``). Certain foreground: the image is unchanged."""
    model = build(
        roi=dict(dilations=(2, ), shift=0.5),
        background_index=background_index,
        image_black=0.25)
    x = torch.rand(2, 3, N, N)
    background = torch.full((2, K, N, N), -20.0)
    background[:, background_index] = 20.0
    dimmed = model.stage_input(1, x, background)
    factor = torch.sigmoid(torch.tensor(-1.0))
    torch.testing.assert_close(dimmed, 0.25 + (x - 0.25) * factor)
    foreground = -background
    torch.testing.assert_close(model.stage_input(1, x, foreground), x)


@pytest.mark.parametrize('output', [None, 1])
def test_predict_structure(output):
    test_cfg = ConfigDict(mode='whole')
    if output is not None:
        test_cfg.output = output
    model = build(test_cfg=test_cfg)
    model.eval()
    x = torch.rand(2, 3, N, N)
    with torch.no_grad():
        outs = model.forward_stages(x)
        chosen = outs[(output or 2) - 1]
        torch.testing.assert_close(model._forward(x), chosen)
        results = model.predict(x)  # no data samples
    assert len(results) == 2
    for i, ds in enumerate(results):
        assert tuple(ds.seg_logits.data.shape) == (K, N, N)
        assert tuple(ds.pred_sem_seg.data.shape) == (1, N, N)
        assert torch.equal(ds.pred_sem_seg.data[0], chosen[i].argmax(0))
