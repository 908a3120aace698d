"""Unit tests of :class:`ResNetPanel` and :class:`PanelBottleneck`
(``mmecho/models/backbones/resnet_panel.py``) with 8 base channels on
64 x 64 images. The full-size ResNet-50-panel is in ``test_backbones.py``.
"""
import pytest
import torch

from mmecho.models import PanelBottleneck, ResNetPanel
from mmecho.models.layers import Panel
from mmecho.registry import MODELS


def test_panel_bottleneck_halves_and_expands():
    block = PanelBottleneck(8, 4)
    assert isinstance(block.panel, Panel) and block.panel.stride == 2
    assert block.panel.attention is not None  # global attention
    assert block.conv2.stride == (1, 1)  # the 3x3 runs at full resolution
    out = block(torch.rand(2, 8, 16, 12))
    assert tuple(out.shape) == (2, 16, 8, 6)  # 4 * planes at H/2, W/2


def test_stages_shapes_and_which_blocks_are_panels():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ResNetPanel',
            depth=50,
            base_channels=8,
            out_indices=(0, 1, 2, 3)))
    assert isinstance(model, ResNetPanel)
    model.eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    # 4 * 8 * 2^i channels at stride 4 * 2^i
    assert [tuple(o.shape) for o in outs] == [(1, 32, 16, 16), (1, 64, 8, 8),
                                              (1, 128, 4, 4), (1, 256, 2, 2)]
    firsts = [getattr(model, name)[0] for name in model.res_layers]
    # stage 1 keeps the resolution: mmdet's bottleneck; 2-4: panel blocks
    assert [isinstance(b, PanelBottleneck) for b in firsts] == \
        [False, True, True, True]


def test_gradients_reach_the_stem_and_the_panels():
    torch.manual_seed(0)
    model = ResNetPanel(depth=50, base_channels=8, out_indices=(3, ))
    model(torch.rand(2, 3, 64, 64))[0].pow(2).mean().backward()
    assert model.conv1.weight.grad.abs().sum() > 0
    assert model.layer4[0].panel.attention.q.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('depth', [18, 34])
def test_basic_block_depths_are_refused(depth):
    with pytest.raises(ValueError, match='bottleneck depth'):
        ResNetPanel(depth=depth)
