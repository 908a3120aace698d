"""Unit tests of UPANet V2 (``mmecho/models/backbones/upanet.py``) and its
blocks (``mmecho/models/layers/panel_attention.py``) at width 8 on 64 x 64
images. Sizes of the reference widths are in ``test_backbones.py``."""
import pytest
import torch

from mmecho.models import UPABlock, UPANetV2
from mmecho.models.layers import Panel, PanelAttention
from mmecho.registry import MODELS


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='UPANetV2', width=8)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_stage_outputs_follow_the_table():
    """Stage i (0-based) of width f: 2^(i+1) f channels at stride
    2^(i+2); the default returns stages 1..3 (strides 8, 16, 32)."""
    model = build()
    assert isinstance(model, UPANetV2)
    assert model.out_channels == [16, 32, 64, 128]
    outs = model(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 8, 8), (2, 64, 4, 4),
                                              (2, 128, 2, 2)]
    outs = build(out_indices=(0, 3))(torch.rand(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 16, 24), (1, 128, 2, 3)]


def test_configuration_errors():
    with pytest.raises(ValueError, match='out_indices'):
        build(out_indices=(1, 4))
    with pytest.raises(ValueError, match='not divisible by num_dense'):
        build(width=6)  # stage 1: 6 channels, 4 dense blocks


def test_blocks_and_attention_per_stage():
    model = build(num_dense=2)
    # stem (stride 2, no attention), then per stage a transition + 2 dense
    assert not model.stem.dense and model.stem.panel.attention is None
    assert [len(s) for s in model.stages] == [3, 3, 3, 3]
    has_attention = [s[0].panel.attention is not None for s in model.stages]
    assert has_attention == [False, True, True, True]
    assert all(
        isinstance(s[0].panel.attention, PanelAttention)
        for s in model.stages[1:])
    none = build(attention_stages=())
    assert all(s[0].panel.attention is None for s in none.stages)


def test_upa_blocks_shapes():
    x = torch.rand(2, 8, 10, 14)
    # transition: C_in -> C at half resolution
    assert tuple(UPABlock(8, 12, stride=2)(x).shape) == (2, 12, 5, 7)
    assert tuple(UPABlock(8, 12, 2, True)(x).shape) == (2, 12, 5, 7)
    # dense: concatenates growth g = 4 channels to the input
    assert tuple(UPABlock(8, 4, stride=1)(x).shape) == (2, 12, 10, 14)
    # odd sides: the panel path resizes internally
    odd = torch.rand(1, 8, 9, 7)
    assert tuple(UPABlock(8, 4, stride=1)(odd).shape) == (1, 12, 9, 7)
    assert tuple(UPABlock(8, 4, stride=2)(odd).shape) == (1, 4, 4, 3)


def test_panel_arguments_are_checked():
    with pytest.raises(ValueError, match='stride must be 1 or 2'):
        Panel(8, 8, stride=3)
    with pytest.raises(ValueError, match='only defined for stride 2'):
        Panel(8, 8, stride=1, global_attention=True)


def test_loss_reaches_stem_and_attention():
    model = build()
    outs = model(torch.rand(2, 3, 64, 64))
    sum(o.pow(2).mean() for o in outs).backward()
    att = model.stages[1][0].panel.attention
    for p in [
            *model.stem.parameters(), att.q.weight, att.k.weight, att.v.weight
    ]:
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_inputs_must_be_multiples_of_32():
    with pytest.raises(ValueError, match='multiples of 32'):
        build()(torch.rand(1, 3, 48, 64))
