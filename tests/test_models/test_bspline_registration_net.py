"""Unit tests of :class:`BSplineRegistrationNet` (``mmecho/models/
registrators/bspline_registration_net.py``): a DLIR ConvNet with 4
channels, control points every 8 pixels, on 64 x 48 images."""
import pytest
import torch

from mmecho.models import BSplineRegistrationNet
from mmecho.registry import MODELS


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='BSplineRegistrationNet', grid_spacing=8, kernels=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('size', [(64, 48), (60, 44)])
def test_field_shape_and_control_grid(size):
    """(B, 1, H, W) pair -> (B, 2, H, W); the control grid is ceil(H / 8)
    x ceil(W / 8), any size."""
    net = build()
    assert isinstance(net, BSplineRegistrationNet)
    # log2(8) = 3 blocks of two convs, a last conv, the 1x1 head
    assert sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()) == 8
    fixed, moving = torch.rand(2, 2, 1, *size)
    control = net.head(net.features(torch.cat([fixed, moving], 1)))
    assert tuple(control.shape[2:]) == tuple(-(-n // 8) for n in size)
    assert tuple(net(fixed, moving).shape) == (2, 2, *size)


@pytest.mark.parametrize('spacing', [1, 12])
def test_grid_spacing_must_be_a_power_of_two(spacing):
    with pytest.raises(ValueError, match='power of 2'):
        build(grid_spacing=spacing)


def test_starts_near_the_identity():
    """The head is initialised N(0, 1e-5), bias 0: the first fields are far
    below a pixel whatever the images."""
    net = build()
    disp = net(torch.rand(2, 1, 64, 48), torch.rand(2, 1, 64, 48))
    assert 0 < disp.abs().max().item() < 1e-2


def constant_head(net, c0, c1):
    """Make the head output (c0, c1) grid spacings at every control
    point."""
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([c0, c1]))


def test_constant_control_grid_gives_a_constant_field():
    """mmecho convention: head channels (dy, dx) in grid spacings; the
    basis sums to one everywhere."""
    net = build()
    constant_head(net, 0.5, -0.25)
    disp = net(torch.rand(1, 1, 64, 48), torch.rand(1, 1, 64, 48))
    torch.testing.assert_close(disp[0, 0], torch.full((64, 48), 0.5 * 8))
    torch.testing.assert_close(disp[0, 1], torch.full((64, 48), -0.25 * 8))


def test_torchir_convention_swaps_channels_and_decays_at_the_border():
    """TorchIR: head channel 0 is x; the returned field is still (dy, dx).
    Without outer control points the field of a constant grid is full in
    the middle and halves per axis at the last pixel."""
    net = build(convention='torchir')
    constant_head(net, 0.5, -0.25)  # x: 0.5, y: -0.25 grid spacings
    disp = net(torch.rand(1, 1, 64, 48), torch.rand(1, 1, 64, 48))[0]
    dy, dx = disp
    torch.testing.assert_close(dy[32, 24], torch.tensor(-0.25 * 8))
    torch.testing.assert_close(dx[32, 24], torch.tensor(0.5 * 8))
    torch.testing.assert_close(dx[-1, -1], torch.tensor(0.25 * 0.5 * 8))
    torch.testing.assert_close(dx[32, -1], torch.tensor(0.5 * 0.5 * 8))


def test_gradients_reach_every_layer():
    net = build()
    disp = net(torch.rand(2, 1, 64, 48), torch.rand(2, 1, 64, 48))
    (disp**2).sum().backward()  # any loss of the field
    assert net.head.weight.grad.abs().sum() > 0
    first = net.features[0].conv.weight.grad
    assert first is not None and first.abs().sum() > 0
