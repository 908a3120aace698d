"""U-Net, LinkNet, MA-Net and PAN of the CAMUS grid are the networks that
segmentation_models_pytorch 0.6.0 builds (the thesis's library).

The reference counts are facts measured with smp 0.6.0 (``classes=4``,
``in_channels=3``, ``encoder_weights=None``, defaults otherwise; parameters
that receive a gradient), read from
``tests/fixtures/smp_0.6.0_live_params.json``. The MA-Net attention is
checked against smp's formula written out here with numpy.
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import Config

from mmecho.grid import leaf_config_path
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT
from .seg_samples import random_seg_samples

ARCHS = ('unet', 'linknet', 'manet', 'pan')
ENCODERS = ('r18', 'r50', 'mbv2', 'effb0')

with open(osp.join(ROOT, 'tests', 'fixtures',
                   'smp_0.6.0_live_params.json')) as f:
    SMP = json.load(f)['counts']


def _build(arch, encoder):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/{leaf_config_path(arch, encoder)}')
    return MODELS.build(cfg.model)


def _trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize('encoder', ENCODERS)
@pytest.mark.parametrize('arch', ARCHS)
def test_parameter_count_is_smps(arch, encoder):
    n = _trainable(_build(arch, encoder))
    ref = SMP[f'{arch}:{encoder}']
    assert n == ref, f'{arch}:{encoder}: {n:,} vs smp {ref:,} ({n - ref:+,})'


def _train_step(model, size):
    model.train()
    inputs = torch.randn(2, 3, size, size)
    # the head's own output (before mmseg's resize) has the input's size
    logits = model.decode_head(model.extract_feat(inputs))
    assert logits.shape == (2, 4, size, size)
    losses = model.loss(inputs, random_seg_samples(2, size))
    loss = sum(v for k, v in losses.items() if k.startswith('decode.loss'))
    assert torch.isfinite(loss)
    loss.backward()
    enc = [p for p in model.backbone.parameters() if p.requires_grad]
    assert enc[0].grad is not None and enc[0].grad.abs().sum() > 0
    no_grad = [
        name for name, p in model.decode_head.named_parameters()
        if p.requires_grad and p.grad is None
    ]
    assert not no_grad, f'decoder parameters without gradient: {no_grad}'
    model.eval()
    with torch.no_grad():
        out = model(inputs[:1], mode='tensor')
    assert out.shape == (1, 4, size, size)


@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('encoder', ['r18', 'plain'])
def test_forward_backward_64(arch, encoder):
    torch.manual_seed(0)
    model = _build(arch, encoder)
    if arch == 'pan':
        # smp's FPA pools the deepest map (4x4 at output stride 16) three
        # times by 2 and fails below 8x8; mmecho says so
        with pytest.raises(ValueError, match='at least 8x8'):
            model.decode_head(model.extract_feat(torch.randn(2, 3, 64, 64)))
        _train_step(model, 128)  # the smallest input smp's PAN takes
    else:
        _train_step(model, 64)


def test_layers_are_smps():
    from mmecho.models.decode_heads import (LinkNetHead, MANetHead, PANHead,
                                            UNetHead)
    enc = [64, 64, 128, 256, 512]
    kw = dict(
        in_channels=enc,
        in_index=list(range(5)),
        num_classes=4,
        norm_cfg=dict(type='BN'))
    unet = UNetHead(**kw)
    assert unet.conv_seg.kernel_size == (3, 3)
    assert unet.conv_seg.bias is not None

    link = LinkNetHead(**kw)
    assert link.conv_seg.kernel_size == (1, 1)
    up = link.blocks[0].up[0]
    assert isinstance(up, nn.ConvTranspose2d)
    assert up.kernel_size == (4, 4) and up.stride == (2, 2)
    assert up.bias is not None  # smp's TransposeX2 keeps its bias
    assert isinstance(link.blocks[0].up[1], nn.BatchNorm2d)
    assert link.blocks[0].reduce.conv.bias is None

    manet = MANetHead(**kw)
    assert manet.conv_seg.kernel_size == (3, 3)
    pab = manet.pab
    # smp's PABBlock: four plain convs with bias, no norm, no activation
    assert all(isinstance(m, nn.Conv2d) for m in pab.children())
    assert [m.kernel_size for m in pab.children()] == [(1, 1), (1, 1), (3, 3),
                                                       (3, 3)]
    assert all(m.bias is not None for m in pab.children())
    assert pab.query.out_channels == 64 and pab.value.out_channels == 512

    pan = PANHead(**dict(kw, in_channels=enc[1:], in_index=[0, 1, 2, 3]))
    assert pan.conv_seg.kernel_size == (3, 3) and pan.upsampling == 4
    convs = [m for m in pan.modules() if isinstance(m, nn.Conv2d)]
    # every conv but the classifier is smp's ConvBnRelu: bias, then BN
    assert all(m.bias is not None for m in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in pan.modules()) == \
        len(convs) - 1
    gate = pan.gaus[0].gate
    assert isinstance(gate[-1], nn.Sigmoid)
    assert not hasattr(gate[1], 'act')  # 1x1 conv + BN, no ReLU
    # FPA: global, mid, 7x7, 5x5, two 3x3, lateral 5x5 and 7x7; 2 per GAU;
    # the classifier
    assert len(convs) == 8 + 2 * 3 + 1


def _smp_pab_attention(block, x):
    """smp's PABBlock attention term, written out with numpy."""
    x_np = x.detach().numpy().astype(np.float64)
    b, c, h, w = x_np.shape
    n = h * w
    wq = block.query.weight.detach().numpy().reshape(-1, c)
    bq = block.query.bias.detach().numpy()
    wk = block.key.weight.detach().numpy().reshape(-1, c)
    bk = block.key.bias.detach().numpy()
    v = block.value(x).detach().numpy().astype(np.float64)  # (B, C, h, w)
    out = np.empty_like(x_np)
    for i in range(b):
        flat = x_np[i].reshape(c, n)
        q = wq @ flat + bq[:, None]  # (k, n), smp's center_conv
        k = wk @ flat + bk[:, None]  # (k, n), smp's top_conv
        s = q.T @ k  # (n, n): s[p, r] = q_p . k_r
        e = np.exp(s - s.max())
        a = e / e.sum()  # one softmax over all n * n entries
        y = a @ v[i].reshape(c, n).T  # (n, C)
        out[i] = y.reshape(c, h, w)  # memory order kept: no transpose
    return out


def _self_attention(block, x):
    """Row-wise softmax, channels-first result (DANet-style), for
    contrast."""
    b, c, h, w = x.shape
    q = block.query(x).flatten(2).transpose(1, 2)
    k = block.key(x).flatten(2)
    v = block.value(x).flatten(2)
    a = torch.softmax(q @ k, dim=-1)
    return (v @ a.transpose(1, 2)).view(b, c, h, w)


def test_manet_attention_is_smps_formula():
    from mmecho.models.decode_heads.manet_head import PositionAttentionBlock
    torch.manual_seed(0)
    block = PositionAttentionBlock(channels=3, key_channels=2)
    x = torch.randn(2, 3, 2, 3)  # not square: a wrong reshape shows
    with torch.no_grad():
        y = block.attention(x).numpy()
        ref = _smp_pab_attention(block, x)
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
        # the whole block: out_conv(x + y)
        full = F.conv2d(
            x + torch.from_numpy(ref).float(),
            block.out.weight,
            block.out.bias,
            padding=1)
        np.testing.assert_allclose(
            block(x).numpy(), full.numpy(), rtol=1e-5, atol=1e-6)
        # the formula is not the usual self-attention
        assert not np.allclose(y, _self_attention(block, x).numpy(), atol=1e-3)
    # each sample has its own softmax: the map of sample i sums to 1
    q = block.query(x).flatten(2).transpose(1, 2)
    s = q @ block.key(x).flatten(2)
    a = torch.softmax(s.reshape(2, -1), dim=1)
    assert torch.allclose(a.sum(1), torch.ones(2))


def test_pan_upsamples_with_align_corners():
    from mmecho.models.decode_heads import PANHead
    torch.manual_seed(0)
    head = PANHead(
        in_channels=[8, 16, 32, 32],
        in_index=[0, 1, 2, 3],
        num_classes=4,
        norm_cfg=dict(type='BN')).eval()
    feats = [
        torch.randn(1, c, s, s)
        for c, s in zip([8, 16, 32, 32], [32, 16, 8, 8])
    ]
    seen = {}
    head.conv_seg.register_forward_hook(
        lambda m, i, o: seen.setdefault('logits', o))
    with torch.no_grad():
        out = head(feats)
    low = seen['logits']
    assert low.shape[-2:] == (32, 32) and out.shape[-2:] == (128, 128)
    # align_corners=True keeps the corner values
    for r, c in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert torch.allclose(out[..., r, c], low[..., r, c], atol=1e-6)
