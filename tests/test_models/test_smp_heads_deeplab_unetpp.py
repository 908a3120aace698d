"""DeepLabV3, DeepLabV3+ and U-Net++ of the CAMUS grid are the networks that
segmentation_models_pytorch 0.6.0 builds (the thesis's library).

The reference counts are facts measured with smp 0.6.0 (``classes=4``,
``in_channels=3``, ``encoder_weights=None``, defaults otherwise; parameters
that receive a gradient), from ``shared/docs/independent_references.md``
section 1.
"""
import pytest
import torch
import torch.nn as nn
from mmengine import Config

from mmecho.grid import leaf_config_path
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT
from .seg_samples import random_seg_samples

ARCHS = ('deeplabv3', 'deeplabv3plus', 'unetplusplus')

SMP_COUNTS = {
    ('deeplabv3', 'r18'): 15_899_716,
    ('deeplabv3', 'r34'): 26_007_876,
    ('deeplabv3', 'r50'): 39_634_500,
    ('deeplabv3', 'r101'): 58_626_628,
    ('deeplabv3plus', 'r18'): 12_330_068,
    ('deeplabv3plus', 'r34'): 22_438_228,
    ('deeplabv3plus', 'r50'): 26_678_356,
    ('deeplabv3plus', 'r101'): 45_670_484,
    ('unetplusplus', 'r18'): 15_970_884,
    ('unetplusplus', 'r34'): 26_079_044,
    ('unetplusplus', 'r50'): 48_986_180,
    ('unetplusplus', 'r101'): 67_978_308,
}


def _build(arch, encoder):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/{leaf_config_path(arch, encoder)}')
    return MODELS.build(cfg.model)


def _trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize('arch,encoder', sorted(SMP_COUNTS))
def test_parameter_count_matches_smp(arch, encoder):
    n = _trainable(_build(arch, encoder))
    ref = SMP_COUNTS[(arch, encoder)]
    assert n == pytest.approx(ref, rel=0.01), \
        f'{arch}:{encoder}: {n:,} vs smp {ref:,} ({n / ref:.4f}x)'


@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('encoder', ['r18', 'plain'])
def test_forward_backward_64(arch, encoder):
    torch.manual_seed(0)
    model = _build(arch, encoder)
    model.train()
    inputs = torch.randn(2, 3, 64, 64)
    # the head's own output (before mmseg's resize) has the input's size
    logits = model.decode_head(model.extract_feat(inputs))
    assert logits.shape == (2, 4, 64, 64)
    losses = model.loss(inputs, random_seg_samples(2, 64))
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
    assert out.shape == (1, 4, 64, 64)


def test_deeplab_encoders_are_dilated_as_smp():
    v3 = _build('deeplabv3', 'r18')
    v3p = _build('deeplabv3plus', 'r18')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        deep = v3.backbone(x)[-1]
        low, deep_p = v3p.backbone(x)
    assert deep.shape[-2:] == (8, 8)  # output stride 8
    assert low.shape[-2:] == (16, 16) and deep_p.shape[-2:] == (4, 4)
    assert v3.decode_head.upsampling == 8
    assert v3p.decode_head.upsampling == 4


def test_deeplab_heads_layout():
    from mmecho.models.decode_heads.smp_deeplab_heads import (
        SMPDeepLabV3Head, SMPDeepLabV3PlusHead)
    kw = dict(channels=256, num_classes=4, norm_cfg=dict(type='BN'))
    v3 = SMPDeepLabV3Head(in_channels=512, in_index=0, **kw)
    aspp = v3.aspp
    # 1x1 + three plain atrous 3x3 at 12/24/36, image pooling, 1x1 project
    assert aspp.branches[0].conv.kernel_size == (1, 1)
    assert [b.conv.dilation for b in aspp.branches[1:]] == [(12, 12), (24, 24),
                                                            (36, 36)]
    assert aspp.project.conv.kernel_size == (1, 1)
    assert aspp.project.conv.in_channels == 5 * 256
    assert aspp.dropout.p == 0.5
    assert v3.bottleneck.conv.kernel_size == (3, 3)
    assert v3.conv_seg.kernel_size == (1, 1)

    v3p = SMPDeepLabV3PlusHead(in_channels=[64, 512], in_index=[0, 1], **kw)
    sep = v3p.aspp.branches[1]
    # smp's separable conv: nothing between depthwise and pointwise, no bias
    assert not sep.depthwise_conv.with_norm
    assert not sep.depthwise_conv.with_activation
    assert sep.depthwise_conv.conv.bias is None
    assert sep.depthwise_conv.conv.dilation == (12, 12)
    assert sep.pointwise_conv.conv.bias is None
    assert v3p.c1_bottleneck.conv.out_channels == 48
    assert v3p.fuse.depthwise_conv.conv.in_channels == 256 + 48
    # ASPP: 1x1 (512*256), 3 separable (512*9 + 512*256), pooling (512*256),
    # project (1280*256), 6 BN; then the separable 3x3 (256*9 + 256*256) + BN,
    # the low-level 1x1 + BN, the separable fuse + BN and the classifier
    aspp = (512 * 256 + 3 * (512 * 9 + 512 * 256) + 512 * 256 + 1280 * 256 +
            6 * 512)
    bott = 256 * 9 + 256 * 256 + 512
    c1 = 64 * 48 + 96
    fuse = 304 * 9 + 304 * 256 + 512
    assert _trainable(v3p) == aspp + bott + c1 + fuse + 256 * 4 + 4


def test_unetplusplus_node_widths_follow_smp():
    from mmecho.models.decode_heads import UNetPlusPlusHead

    # ResNet-50 widths: stride 2 .. 32
    enc = [64, 256, 512, 1024, 2048]
    head = UNetPlusPlusHead(
        in_channels=enc,
        in_index=list(range(5)),
        num_classes=4,
        norm_cfg=dict(type='BN'))

    def io(lev, j):
        block = head.nodes[f'{lev}_{j}']
        return block.conv1.conv.in_channels, block.conv2.conv.out_channels

    # the main path (last node of each level) has the decoder widths
    assert io(3, 1) == (2048 + 1024, 256)
    assert io(2, 2) == (256 + 2 * 512, 128)
    assert io(1, 3) == (128 + 3 * 256, 64)
    assert io(0, 4) == (64 + 4 * 64, 32)
    # the other nested nodes keep the encoder's width of their level
    assert io(2, 1) == (1024 + 512, 512)
    assert io(1, 1) == (512 + 256, 256)
    assert io(1, 2) == (512 + 2 * 256, 256)
    assert io(0, 3) == (256 + 3 * 64, 64)
    assert sorted(head.nodes) == sorted(f'{lev}_{j}' for j in range(1, 5)
                                        for lev in range(5 - j))
    assert len(head.final) == 1
    assert head.final[0].conv1.conv.in_channels == 32
    assert head.final[0].conv2.conv.out_channels == 16
    assert isinstance(head.conv_seg, nn.Conv2d)
    assert head.conv_seg.kernel_size == (3, 3)
    feats = [
        torch.randn(1, c, 64 // 2**(i + 1), 64 // 2**(i + 1))
        for i, c in enumerate(enc)
    ]
    head.eval()
    with torch.no_grad():
        assert head(feats).shape == (1, 4, 64, 64)
