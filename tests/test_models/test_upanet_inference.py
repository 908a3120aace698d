"""UPANet V2's inference path (``mmecho/models/layers/panel_attention.py``,
``mmecho/models/backbones/upanet.py``) against its layer-by-layer path.

At inference (eval, no autograd, not tracing) the blocks run PReLUs in
place, fold GroupNorm -> BatchNorm, run the stem's transition 1x1 conv,
pixel-unshuffle, depth-wise and point-wise convs as one 6x6 conv, and the
transition blocks' conv branch and shortcut in horizontal strips. The
layer-by-layer path (``torch.enable_grad()``) is the plain composition of
``nn.Conv2d``, ``nn.PReLU``, ``F.pixel_unshuffle``, ``nn.GroupNorm`` and
``nn.BatchNorm2d`` of the reference UPANet; both must give the same
outputs, for any weights, sizes, memory format and strip height.
"""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn

import mmecho.models.backbones.upanet as upanet_module
import mmecho.models.layers.panel_attention as panel_module
from mmecho.models import UPABlock
from mmecho.models.layers import Panel
from mmecho.registry import MODELS


@pytest.fixture(autouse=True)
def space_to_depth_everywhere(monkeypatch):
    """Channels-last maps of any size take the space-to-depth path (by
    default only maps of 2^20 values and more do)."""
    monkeypatch.setattr(panel_module, 'SPACE_TO_DEPTH_MIN_NUMEL', 0)


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics, norm affines and PReLU slopes (some
    above 1 and some negative), so that every fold and the in-place
    activations are exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(
                    torch.rand(m.num_features, generator=g) * 2 + 0.2)
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g))
            if isinstance(m, nn.PReLU):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
    return model.eval()


def layer_by_layer(model, *inputs):
    """The plain path: autograd on, so no in-place or fused inference
    step is taken."""
    with torch.enable_grad():
        out = model(*inputs)
    return [o.detach() for o in (out if isinstance(out, tuple) else [out])]


def inference(model, *inputs):
    with torch.no_grad():
        out = model(*inputs)
    return list(out) if isinstance(out, tuple) else [out]


def assert_same(a, b, rtol=1e-5):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape
        scale = max(float(y.abs().max()), 1.0)
        assert float((x - y).abs().max()) <= rtol * scale


def strips(monkeypatch, strip_bytes):
    """Strip every transition block (``None``: none), ``strip_bytes`` of
    conv-branch map per strip."""
    above = 10**15 if strip_bytes is None else 0
    monkeypatch.setattr(upanet_module, 'STRIP_ABOVE_BYTES', above)
    monkeypatch.setattr(upanet_module, 'STRIP_BYTES', strip_bytes or 1)


def build_upanet(width=8, **kwargs):
    torch.manual_seed(0)
    return randomise(
        MODELS.build(dict(type='UPANetV2', width=width, **kwargs)))


@pytest.mark.parametrize('fuse,channels_last', [(False, False), (True, True),
                                                (True, False)])
@pytest.mark.parametrize('s2d_min', [0, 2**20])
def test_backbone_inference_equals_layer_by_layer(monkeypatch, fuse,
                                                  channels_last, s2d_min):
    monkeypatch.setattr(panel_module, 'SPACE_TO_DEPTH_MIN_NUMEL', s2d_min)
    model = build_upanet(out_indices=(0, 1, 2, 3))
    x = torch.randn(2, 3, 64, 96)
    if fuse:
        model = fuse_conv_bn(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    assert_same(inference(model, x), layer_by_layer(model, x))


@pytest.mark.parametrize('channels_last', [False, True])
# 3 output rows of the stem (8 channels, 96 wide, batch 2) per strip
@pytest.mark.parametrize('strip_bytes', [1, 3 * 2 * 2 * 96 * 8 * 4, None])
def test_strips_of_any_height_give_the_whole_map(monkeypatch, strip_bytes,
                                                 channels_last):
    """1 byte: one output row per strip; the second value: 3 rows per
    strip of the stem, which does not divide its 32 output rows; None:
    no strips. Batch 2: a row strip of a channels-last batch is not
    contiguous."""
    strips(monkeypatch, strip_bytes)
    model = build_upanet()
    x = torch.randn(2, 3, 64, 96)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    assert_same(inference(model, x), layer_by_layer(model, x))


@pytest.mark.parametrize('size', [(12, 10), (13, 10), (12, 9), (4, 6)])
@pytest.mark.parametrize('channels_last', [False, True])
def test_transition_block_in_strips_any_size(monkeypatch, size,
                                             channels_last):
    """A transition block on a feature map (no fused input kernel), one
    output row per strip."""
    strips(monkeypatch, 1)
    torch.manual_seed(4)
    block = randomise(UPABlock(8, 12, stride=2))
    x = torch.randn(2, 8, *size)
    if channels_last:
        block = block.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    assert_same(inference(block, x), layer_by_layer(block, x))


@pytest.mark.parametrize('size', [(10, 14), (9, 7), (12, 5)])
@pytest.mark.parametrize('stride,attention', [(2, False), (2, True),
                                              (1, False)])
def test_blocks_with_an_image_input_any_size(monkeypatch, size, stride,
                                             attention):
    """3 input channels take the fused 6x6 input kernel (even sides) or
    the resize path (odd sides); strips of one row."""
    strips(monkeypatch, 1)
    torch.manual_seed(1)
    block = randomise(UPABlock(3, 8, stride, attention))
    x = torch.randn(2, 3, *size)
    assert_same(inference(block, x), layer_by_layer(block, x))


@pytest.mark.parametrize('stride', [1, 2])
def test_panel_leaves_its_inputs_alone(stride):
    """The in-place steps write only into buffers the panel made."""
    torch.manual_seed(2)
    panel = randomise(Panel(3, 4, stride))
    x = torch.randn(1, 3, 8, 8)
    sc = torch.randn(1, 4, 8, 8)
    x0, sc0 = x.clone(), sc.clone()
    out = inference(panel, x, sc)[0]
    assert torch.equal(x, x0) and torch.equal(sc, sc0)
    assert_same([out], layer_by_layer(panel, x, sc))


def test_block_leaves_its_input_alone(monkeypatch):
    strips(monkeypatch, 1)
    torch.manual_seed(3)
    for block in (UPABlock(3, 8, 2), UPABlock(8, 4, 1)):
        block = randomise(block)
        x = torch.randn(1, block.conv[0][0].in_channels, 8, 8)
        x0 = x.clone()
        inference(block, x)
        assert torch.equal(x, x0)


def test_training_after_inference_is_unchanged():
    """An inference call changes no parameter or buffer, and training
    afterwards gets the same loss and gradients as without it."""
    x = torch.randn(2, 3, 64, 64)

    def loss_and_grads(model):
        model.train()
        model.zero_grad()
        loss = sum(o.pow(2).mean() for o in model(x))
        loss.backward()
        return float(loss), [p.grad.clone() for p in model.parameters()]

    fresh = build_upanet()
    used = build_upanet()
    state = {k: v.clone() for k, v in used.state_dict().items()}
    inference(used, x)
    after = used.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)
    loss_a, grads_a = loss_and_grads(fresh)
    loss_b, grads_b = loss_and_grads(used)
    assert loss_a == loss_b
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))


def test_traced_graph_keeps_the_plain_layers():
    """ONNX export traces the layer-by-layer path: no in-place leaky ReLU
    with a slope frozen from a parameter, no fused kernel."""
    model = build_upanet()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        traced = torch.jit.trace(model, x, check_trace=False)
    graph = str(traced.inlined_graph)
    assert 'aten::prelu' in graph and 'aten::leaky_relu_' not in graph
    assert 'aten::pixel_unshuffle' in graph
    assert_same(list(traced(x)), layer_by_layer(model, x))


def test_inference_takes_every_fast_step(monkeypatch):
    """Without autograd the fused stem kernel, the strips, space-to-depth
    and the in-place PReLU all run (so the comparisons above compare two
    different computations); with autograd none of them does."""
    strips(monkeypatch, 1)
    calls = {}

    def spy(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(Panel, 'fused_input_kernel')
    spy(UPABlock, '_shortcut_in_strips')
    spy(panel_module, 'space_to_depth')
    spy(panel_module.F, 'leaky_relu_')
    model = build_upanet().to(memory_format=torch.channels_last)
    x = torch.randn(1, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    layer_by_layer(model, x)
    assert calls == {}
    inference(model, x)
    assert set(calls) == {
        'fused_input_kernel', '_shortcut_in_strips', 'space_to_depth',
        'leaky_relu_'
    }


def test_space_to_depth_orders_channels_as_tensorflow_and_pixel_unshuffle():
    """TensorFlow's documented ``space_to_depth`` example: the NHWC input
    [[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]] with block 2
    gives [[[[1, 2, ..., 12]]]]. And PyTorch's ``pixel_unshuffle`` holds
    the same values with channel ``4c + s`` where space-to-depth has
    ``s * C + c``."""
    nhwc = torch.arange(1., 13.).reshape(1, 2, 2, 3)
    z = nhwc.permute(0, 3, 1, 2)  # (1, 3, 2, 2)
    assert panel_module.space_to_depth(z).flatten().tolist() == list(
        range(1, 13))
    z = torch.randn(2, 5, 6, 8).contiguous(memory_format=torch.channels_last)
    order = [4 * c + s for s in range(4) for c in range(5)]
    assert torch.equal(
        torch.nn.functional.pixel_unshuffle(z, 2)[:, order],
        panel_module.space_to_depth(z))
