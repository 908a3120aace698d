"""PSPNet and FPN cells of the CAMUS grid are the networks that
segmentation_models_pytorch 0.6.0 builds (``smp.PSPNet`` / ``smp.FPN``,
``encoder_weights=None, in_channels=3, classes=4``, defaults otherwise).

The reference counts are smp's live parameters (those that receive a
gradient), measured outside mmecho (``shared/docs/independent_references.md``
section 1).
"""
import pytest
import torch
import torch.nn as nn
from mmengine import Config

from mmecho.grid import leaf_config_path
from mmecho.registry import MODELS
from mmecho.utils import count_params, register_all_modules
from ..conftest import ROOT

SMP_LIVE_PARAMS = {
    ('pspnet', 'r18'): 850_212,
    ('pspnet', 'r34'): 1_515_044,
    ('pspnet', 'r50'): 2_251_716,
    ('pspnet', 'r101'): 2_251_716,
    ('fpn', 'r18'): 13_047_620,
    ('fpn', 'r34'): 23_155_780,
    ('fpn', 'r50'): 26_116_420,
    ('fpn', 'r101'): 45_108_548,
}


def _cfg(arch, encoder):
    return f'{ROOT}/{leaf_config_path(arch, encoder)}'


def _build(arch, encoder):
    register_all_modules()
    return MODELS.build(Config.fromfile(_cfg(arch, encoder)).model)


@pytest.mark.parametrize('arch,encoder', list(SMP_LIVE_PARAMS))
def test_parameter_count_matches_smp(arch, encoder):
    n = count_params(_cfg(arch, encoder)) * 1e6
    ref = SMP_LIVE_PARAMS[(arch, encoder)]
    assert n == pytest.approx(ref, rel=0.01), \
        f'{arch}/{encoder}: {n:,.0f} vs smp {ref:,} ({n / ref:.4f}x)'


@pytest.mark.parametrize('arch', ['pspnet', 'fpn'])
@pytest.mark.parametrize('encoder', ['r18', 'plain'])
def test_forward_backward_at_input_size(arch, encoder):
    """Also the plain (no-encoder) cells build and train."""
    torch.manual_seed(0)
    model = _build(arch, encoder)
    model.train()
    x = torch.randn(2, 3, 64, 64)
    logits = model(x, mode='tensor')
    # the head upsamples itself (x8 / x4): logits at the input size
    assert logits.shape == (2, 4, 64, 64)
    logits.square().mean().backward()
    # every parameter is live: no unused stage or module is built
    dead = [n for n, p in model.named_parameters() if p.grad is None]
    assert not dead, dead
    model.eval()
    with torch.no_grad():
        assert model(x[:1], mode='tensor').shape == (1, 4, 64, 64)


def test_pspnet_structure():
    model = _build('pspnet', 'r18')
    # encoder_depth=3: the ResNet stops after layer2 (stride 8, 128 ch)
    assert not hasattr(model.backbone.body, 'layer3')
    assert model.backbone.out_channels[-1] == 128
    head = model.decode_head
    branches = [b[1] for b in head.psp_modules]
    assert [b[0].output_size for b in head.psp_modules] == [1, 2, 3, 6]
    assert all(b.conv.out_channels == 32 for b in branches)
    # the 1x1-pooled branch: conv with bias, no norm; the others: BN
    assert not branches[0].with_norm and branches[0].conv.bias is not None
    assert all(b.with_norm and b.conv.bias is None for b in branches[1:])
    assert head.bottleneck.conv.kernel_size == (1, 1)
    assert head.bottleneck.conv.in_channels == 256
    assert head.bottleneck.conv.out_channels == 512
    assert isinstance(head.bottleneck.bn, nn.BatchNorm2d)
    assert head.dropout.p == pytest.approx(0.2)
    assert head.conv_seg.kernel_size == (3, 3)
    assert head.upsampling == 8


def test_fpn_structure():
    model = _build('fpn', 'r18')
    assert not model.with_neck  # smp's pyramid lives in the head
    head = model.decode_head
    assert [c.in_channels for c in head.lateral_convs] == [64, 128, 256, 512]
    for c in head.lateral_convs:
        assert c.out_channels == 256 and c.bias is not None
        assert c.kernel_size == (1, 1)
    # deepest level: 3 conv blocks with x2 upsampling; stride 4: one, none
    assert [len(b) for b in head.seg_blocks] == [1, 1, 2, 3]
    assert [b.num_upsamples for b in head.seg_blocks] == [0, 1, 2, 3]
    for block in head.seg_blocks:
        for conv in block:
            assert isinstance(conv.gn, nn.GroupNorm)
            assert conv.gn.num_groups == 32 and conv.conv.bias is None
            assert conv.conv.out_channels == 128
    assert head.dropout.p == pytest.approx(0.2)
    assert head.conv_seg.kernel_size == (1, 1)
    assert head.upsampling == 4
