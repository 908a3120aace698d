"""Unit tests of :class:`VoxelMorphUNet` and ``VoxelMorphRegistrator``
(``mmecho/models/registrators/voxelmorph_unet.py``): VoxelMorph's 2D
``VxmDense`` with a tiny U-Net (4/8 channels, two levels) on 32 x 32
pairs."""
import pytest
import torch
import torch.nn as nn

from mmecho.models import PairwiseRegistrator, VoxelMorphUNet
from mmecho.registry import MODELS

N = 32


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='VoxelMorphUNet',
        enc_channels=(4, 8),
        dec_channels=(8, 8, 4),
        integration_steps=7,
        int_downsize=2)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def pair(batch=2):
    torch.manual_seed(1)
    return torch.rand(batch, 1, N, N), torch.rand(batch, 1, N, N)


def test_default_size_is_voxelmorphs():
    """VoxelMorph's 2D VxmDense with the default features: 109,170."""
    net = VoxelMorphUNet()
    assert sum(p.numel() for p in net.parameters()) == 109170


@pytest.mark.parametrize('steps,downsize,preint', [(7, 2, N // 2), (7, 1, N),
                                                   (0, 2, N)])
def test_shapes_and_preintegration_field(steps, downsize, preint):
    net = build(integration_steps=steps, int_downsize=downsize)
    disp = net(*pair())
    assert tuple(disp.shape) == (2, 2, N, N)
    assert tuple(net.preint_flow.shape) == (2, 2, preint, preint)
    if steps == 0:  # the flow itself is the displacement
        assert net.preint_flow is disp


def test_input_sides_must_be_multiples_of_the_pooling():
    with pytest.raises(ValueError, match='multiple of 4'):
        build()(torch.rand(1, 1, 30, 32), torch.rand(1, 1, 30, 32))
    with pytest.raises(ValueError, match='dec_channels'):
        build(dec_channels=(8, ))
    with pytest.raises(ValueError, match='integration_steps'):
        build(integration_steps=-1)


def velocity_bias(net, vy, vx):
    with torch.no_grad():
        net.flow.weight.zero_()
        net.flow.bias.copy_(torch.tensor([vy, vx]))


@pytest.mark.parametrize('steps,downsize', [(0, 2), (7, 2), (7, 1)])
def test_constant_and_zero_velocities(steps, downsize):
    """Scaling and squaring a constant velocity v gives the displacement v
    (composition of translations); the half-resolution detour rescales the
    vectors there and back. Zero velocity: exactly zero displacement."""
    net = build(integration_steps=steps, int_downsize=downsize)
    velocity_bias(net, 1.5, -0.5)
    disp = net(*pair())
    torch.testing.assert_close(disp[:, 0], torch.full((2, N, N), 1.5))
    torch.testing.assert_close(disp[:, 1], torch.full((2, N, N), -0.5))
    velocity_bias(net, 0.0, 0.0)
    assert net(*pair()).abs().max().item() == 0


def test_starts_near_the_identity():
    """Flow conv initialised N(0, 1e-5), bias 0."""
    disp = build()(*pair())
    assert 0 < disp.abs().max().item() < 1e-2


def test_gradients_reach_the_encoder():
    net = build()
    (net(*pair())**2).sum().backward()
    assert net.flow.weight.grad.abs().sum() > 0
    first = net.encoder[0][0].weight.grad
    assert first is not None and first.abs().sum() > 0


class RampVelocity(nn.Module):
    """A stand-in network: displacement zero, pre-integration field
    ``u_x = 2 x`` (VoxelMorph's Grad('l2') of it: 2^2 / 4 = 1)."""

    def forward(self, fixed, moving):
        b, _, h, w = fixed.shape
        xs = torch.arange(w, dtype=torch.float32)
        self.preint_flow = torch.stack(
            [torch.zeros(h, w),
             (2 * xs).expand(h, w)])[None].expand(b, -1, -1, -1)
        return torch.zeros(b, 2, h, w)


def registrator(type):
    model = MODELS.build(
        dict(
            type=type,
            network=dict(
                type='VoxelMorphUNet',
                enc_channels=(4, 8),
                dec_channels=(8, 8, 4)),
            loss_similarity=dict(type='mmdet.MSELoss'),
            loss_regularization=dict(type='DiffusionLoss', loss_weight=1.0)))
    return model


def test_registrator_regularises_the_preintegration_field():
    """VoxelMorphRegistrator: loss_reg on ``network.preint_flow`` (1 for the
    ramp), where PairwiseRegistrator regularises the displacement (0);
    the stored field is released after the call."""
    fixed, moving = pair()
    inputs = torch.cat([fixed, moving], 1)
    vxm = registrator('VoxelMorphRegistrator')
    assert isinstance(vxm, PairwiseRegistrator)
    vxm.network = RampVelocity()
    losses = vxm(inputs, mode='loss')
    torch.testing.assert_close(losses['loss_reg'], torch.tensor(1.0))
    assert vxm.network.preint_flow is None
    plain = registrator('PairwiseRegistrator')
    plain.network = RampVelocity()
    assert plain(inputs, mode='loss')['loss_reg'].item() == 0


def test_registrator_losses_and_gradients():
    model = registrator('VoxelMorphRegistrator')
    fixed, moving = pair()
    losses = model(torch.cat([fixed, moving], 1), mode='loss')
    assert set(losses) == {'loss_sim', 'loss_reg'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_sim'].item() > 0  # MSE of different images
    sum(losses.values()).backward()
    assert model.network.flow.weight.grad.abs().sum() > 0
    assert model.network.preint_flow is None
    # identical images, identity field: MSE 0
    velocity_bias(model.network, 0.0, 0.0)
    same = model(torch.cat([fixed, fixed], 1), mode='loss')
    assert same['loss_sim'].item() == 0 and same['loss_reg'].item() == 0
