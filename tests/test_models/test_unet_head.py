"""Unit tests of :class:`UNetHead` (``mmecho/models/decode_heads/
unet_head.py``) on hand-made feature pyramids: five levels at strides
2..32 of a 64 x 64 image with 4, 8, 16, 32 and 64 channels."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.models import UNetHead
from mmecho.registry import MODELS

K = 4
LEVELS = (4, 8, 16, 32, 64)
STRIDES = (2, 4, 8, 16, 32)


def build(decoder_channels=(16, 8, 8, 4, 4), **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='UNetHead',
        in_channels=list(LEVELS),
        in_index=list(range(len(LEVELS))),
        decoder_channels=decoder_channels,
        num_classes=K,
        norm_cfg=dict(type='BN'),
        align_corners=False,
        loss_decode=[
            dict(
                type='mmseg.CrossEntropyLoss',
                avg_non_ignore=True,
                loss_weight=1.0),
            dict(type='MultiClassDiceLoss', loss_name='loss_dice')
        ])
    cfg.update(kwargs)
    return MODELS.build(cfg)


def pyramid(batch=2, size=64):
    torch.manual_seed(1)
    return [
        torch.rand(batch, c, size // s, size // s)
        for c, s in zip(LEVELS, STRIDES)
    ]


def samples(labels):
    """SegDataSamples from a ``(B, H, W)`` label tensor."""
    out = []
    for lab in labels:
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(data=lab[None].long())
        h, w = lab.shape
        ds.set_metainfo(
            dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        out.append(ds)
    return out


@pytest.mark.parametrize(
    'decoder_channels,size',
    [
        ((16, 8, 8, 4, 4), 64),  # five blocks: full resolution
        ((16, 8, 8, 4), 32),  # one block fewer: stride 2
        ((16, 8, 8, 4, 4, 4), 128),  # a sixth block without skip: 2x
    ])
def test_output_shape(decoder_channels, size):
    head = build(decoder_channels)
    out = head(pyramid())
    assert tuple(out.shape) == (2, K, size, size)


def test_too_few_blocks_are_refused():
    with pytest.raises(ValueError, match='5 levels need at least 4'):
        build((16, 8, 8))


def test_blocks_concatenate_the_next_shallower_level():
    head = build()
    # block i: its input (deepest level or the previous block) + the skip
    assert [b.conv1.conv.in_channels for b in head.blocks] == \
        [64 + 32, 16 + 16, 8 + 8, 8 + 4, 4 + 0]
    assert [b.conv2.conv.out_channels for b in head.blocks] == \
        [16, 8, 8, 4, 4]
    assert head.conv_seg.kernel_size == (3, 3)
    assert head.conv_seg.bias is not None
    assert build(kernel_size=1).conv_seg.kernel_size == (1, 1)


def test_loss_keys_finite_and_gradients():
    head = build()
    torch.manual_seed(2)
    losses = head.loss(
        pyramid(), samples(torch.randint(0, K, (2, 64, 64))), train_cfg={})
    assert set(losses) == {'loss_ce', 'loss_dice', 'acc_seg'}
    assert losses['loss_ce'].item() > 0 and losses['loss_dice'].item() > 0
    assert all(torch.isfinite(v).all() for v in losses.values())
    (losses['loss_ce'] + losses['loss_dice']).backward()
    for module in (head.blocks[0], head.blocks[-1], head.conv_seg):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_all_background_and_all_ignored_masks():
    head = build()
    background = head.loss(
        pyramid(), samples(torch.zeros(2, 64, 64)), train_cfg={})
    assert all(torch.isfinite(v).all() for v in background.values())
    # the foreground classes have no pixel: their Dice is eps / (sum p + eps)
    assert 0 < background['loss_dice'].item() < 1
    assert background['loss_ce'].item() > 0
    # nothing to learn from a fully ignored (255) image: exactly zero
    ignored = head.loss(
        pyramid(), samples(torch.full((2, 64, 64), 255)), train_cfg={})
    assert ignored['loss_ce'].item() == 0
    assert ignored['loss_dice'].item() == 0


def test_predict_resizes_to_the_input():
    head = build((16, 8, 8, 4))  # stride-2 logits
    head.eval()
    metas = [dict(img_shape=(64, 64), pad_shape=(64, 64))] * 2
    with torch.no_grad():
        logits = head.predict(pyramid(), metas, test_cfg={})
    assert tuple(logits.shape) == (2, K, 64, 64)
    assert isinstance(head, UNetHead)
