"""mmecho's VoxelMorphUNet / paper-003 config against VoxelMorph's VxmDense.

``_Vxm*`` below transcribe voxelmorph/torch/networks.py (Unet, VxmDense) and
voxelmorph/torch/layers.py (SpatialTransformer, VecInt, ResizeTransform) of
https://github.com/voxelmorph/voxelmorph (Apache-2.0), 2D only, so that the
comparison needs no VoxelMorph install. ``padding`` lets the reference's
resampling use mmecho's ``border`` instead of VoxelMorph's ``zeros``.
"""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from mmecho.models.registrators.voxelmorph_unet import (VoxelMorphRegistrator,
                                                         VoxelMorphUNet)
from mmecho.registration import integrate_velocity
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT

ENC = [16, 32, 32, 32]
DEC = [32, 32, 32, 32, 32, 16, 16]
#: VoxelMorph 0.2 2D VxmDense with these features
#: (../shared/docs/independent_references.md section 3)
VXM_DENSE_2D_PARAMS = 109170


class _VxmTransformer(nn.Module):

    def __init__(self, size, padding='zeros'):
        super().__init__()
        grids = torch.meshgrid([torch.arange(0, s) for s in size],
                               indexing='ij')
        self.register_buffer('grid', torch.stack(grids)[None].float())
        self.padding = padding

    def forward(self, src, flow):
        new_locs = self.grid + flow
        shape = flow.shape[2:]
        new_locs = torch.stack([
            2 * (new_locs[:, i] / (shape[i] - 1) - 0.5)
            for i in range(len(shape))
        ], 1)
        new_locs = new_locs.permute(0, 2, 3, 1)[..., [1, 0]]
        return F.grid_sample(
            src,
            new_locs,
            align_corners=True,
            mode='bilinear',
            padding_mode=self.padding)


class _VxmVecInt(nn.Module):

    def __init__(self, size, nsteps, padding='zeros'):
        super().__init__()
        self.nsteps = nsteps
        self.scale = 1.0 / (2**nsteps)
        self.transformer = _VxmTransformer(size, padding)

    def forward(self, vec):
        vec = vec * self.scale
        for _ in range(self.nsteps):
            vec = vec + self.transformer(vec, vec)
        return vec


class _VxmResize(nn.Module):

    def __init__(self, vel_resize):
        super().__init__()
        self.factor = 1.0 / vel_resize

    def forward(self, x):
        if self.factor < 1:
            x = F.interpolate(
                x,
                align_corners=True,
                scale_factor=self.factor,
                mode='bilinear')
            x = self.factor * x
        elif self.factor > 1:
            x = self.factor * x
            x = F.interpolate(
                x,
                align_corners=True,
                scale_factor=self.factor,
                mode='bilinear')
        return x


def _block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, 1, 1), nn.LeakyReLU(0.2))


class _VxmDense(nn.Module):
    """VxmDense(inshape, [ENC, DEC], int_steps, int_downsize), 2D."""

    def __init__(self, inshape, int_steps=7, int_downsize=2,
                 padding='zeros'):
        super().__init__()
        enc_nf, dec_full = ENC, DEC
        n = len(enc_nf)
        final_convs, dec_nf = dec_full[n:], dec_full[:n]
        self.nb_levels = n + 1
        prev, enc_nfs = 2, [2]
        self.encoder = nn.ModuleList()
        for nf in enc_nf:
            self.encoder.append(_block(prev, nf))
            prev = nf
            enc_nfs.append(prev)
        enc_nfs = enc_nfs[::-1]
        self.decoder = nn.ModuleList()
        for level, nf in enumerate(dec_nf):
            self.decoder.append(_block(prev, nf))
            prev = nf + enc_nfs[level]
        self.remaining = nn.ModuleList()
        for nf in final_convs:
            self.remaining.append(_block(prev, nf))
            prev = nf
        self.flow = nn.Conv2d(prev, 2, 3, padding=1)
        use_resize = int_steps > 0 and int_downsize > 1
        self.resize = _VxmResize(int_downsize) if use_resize else None
        self.fullsize = _VxmResize(1 / int_downsize) if use_resize else None
        down = [int(d / int_downsize) for d in inshape]
        self.integrate = _VxmVecInt(down, int_steps,
                                    padding) if int_steps > 0 else None

    def forward(self, source, target):
        x = torch.cat([source, target], 1)
        hist = [x]
        for conv in self.encoder:
            x = conv(x)
            hist.append(x)
            x = F.max_pool2d(x, 2)
        for conv in self.decoder:
            x = conv(x)
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = torch.cat([x, hist.pop()], 1)
        for conv in self.remaining:
            x = conv(x)
        pos = self.flow(x)
        if self.resize:
            pos = self.resize(pos)
        preint = pos
        if self.integrate:
            pos = self.integrate(pos)
            if self.fullsize:
                pos = self.fullsize(pos)
        return pos, preint


def _pair(size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    fixed = torch.rand(2, 1, size, size, generator=g)
    moving = torch.roll(fixed, 2, dims=2)
    return fixed, moving


def _twin(steps, downsize, size, padding):
    """An mmecho net and a reference with the same (scaled-up) weights."""
    torch.manual_seed(0)
    ours = VoxelMorphUNet(
        integration_steps=steps, int_downsize=downsize).double()
    with torch.no_grad():  # a visible field (the init gives ~1e-5 px)
        ours.flow.weight.normal_(0, 0.05)
        ours.flow.bias.copy_(torch.tensor([0.3, -0.2]))
    ref = _VxmDense((size, size), steps, downsize, padding).double()
    src = [p for p in ours.parameters()]
    dst = [p for p in ref.parameters()]
    assert [p.shape for p in src] == [p.shape for p in dst]
    with torch.no_grad():
        for s, d in zip(src, dst):
            d.copy_(s)
    return ours, ref


def test_default_network_has_vxmdense_parameter_count_and_init():
    net = VoxelMorphUNet()
    ref = _VxmDense((64, 64))
    n = sum(p.numel() for p in net.parameters())
    assert n == sum(p.numel() for p in ref.parameters())
    assert abs(n - VXM_DENSE_2D_PARAMS) <= 0.02 * VXM_DENSE_2D_PARAMS
    assert n == VXM_DENSE_2D_PARAMS
    assert net.integration_steps == 7 and net.int_downsize == 2
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.stride == (1, 1) for c in convs)  # max-pool, not strides
    assert torch.count_nonzero(net.flow.bias) == 0
    assert net.flow.weight.abs().max() < 1e-4
    assert 0.5e-5 < float(net.flow.weight.detach().std()) < 2e-5


@pytest.mark.parametrize('steps,downsize', [(0, 2), (7, 2), (7, 1)])
def test_network_equals_voxelmorph_reference(steps, downsize):
    """Same weights -> same field as VxmDense (with border padding in
    the integration, mmecho's choice), full resolution, same preint_flow."""
    size = 64
    ours, ref = _twin(steps, downsize, size, padding='border')
    fixed, moving = (t.double() for t in _pair(size))
    disp = ours(fixed, moving)
    pos, preint = ref(moving, fixed)  # VoxelMorph: (source, target)
    assert disp.shape == (2, 2, size, size)
    assert float(disp.abs().max()) > 0.1
    torch.testing.assert_close(disp, pos, rtol=0, atol=1e-10)
    torch.testing.assert_close(ours.preint_flow, preint, rtol=0, atol=1e-10)
    half = size // downsize if steps else size
    assert ours.preint_flow.shape == (2, 2, half, half)


def test_zero_padding_reference_differs_only_near_the_border():
    """VoxelMorph's VecInt samples zeros outside the image, mmecho the
    border value: the fields agree away from the border."""
    size = 64
    ours, ref = _twin(7, 2, size, padding='zeros')
    fixed, moving = (t.double() for t in _pair(size))
    disp = ours(fixed, moving)
    pos, _ = ref(moving, fixed)
    m = 8
    torch.testing.assert_close(
        disp[..., m:-m, m:-m], pos[..., m:-m, m:-m], rtol=0, atol=1e-6)


@pytest.mark.parametrize('downsize', [2, 1])
def test_zero_integration_padding_is_voxelmorphs_vecint(downsize):
    """``integration_padding='zeros'`` (the setting for converted VoxelMorph
    weights): the same field as VxmDense everywhere, border included."""
    size = 64
    ours, ref = _twin(7, downsize, size, padding='zeros')
    ours.integration_padding = 'zeros'
    fixed, moving = (t.double() for t in _pair(size))
    disp = ours(fixed, moving)
    pos, preint = ref(moving, fixed)
    torch.testing.assert_close(disp, pos, rtol=0, atol=1e-10)
    torch.testing.assert_close(ours.preint_flow, preint, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match='integration_padding'):
        VoxelMorphUNet(integration_padding='reflection')


def test_without_integration_the_flow_is_the_displacement():
    net = VoxelMorphUNet(integration_steps=0)
    with torch.no_grad():
        net.flow.weight.normal_(0, 0.05)
    fixed, moving = _pair(32)
    disp = net(fixed, moving)
    torch.testing.assert_close(disp, net.velocity(fixed, moving))
    assert net.preint_flow is not None and net.preint_flow.shape == disp.shape


def test_constant_velocity_integrates_to_the_same_displacement():
    """exp(v) of a constant v is the translation by v (closed form): through
    the 1/2 resize, 7 squarings and the x2 resize, at full resolution."""
    net = VoxelMorphUNet(integration_steps=7, int_downsize=2)
    with torch.no_grad():
        net.flow.weight.zero_()
        net.flow.bias.copy_(torch.tensor([2.5, -1.25]))
    fixed, moving = _pair(64)
    disp = net(fixed, moving)
    assert disp.shape == (2, 2, 64, 64)
    torch.testing.assert_close(disp[:, 0], torch.full_like(disp[:, 0], 2.5))
    torch.testing.assert_close(disp[:, 1],
                               torch.full_like(disp[:, 1], -1.25))
    # the velocity VoxelMorph regularises: half the grid, half the vectors
    assert net.preint_flow.shape == (2, 2, 32, 32)
    torch.testing.assert_close(net.preint_flow[:, 0],
                               torch.full((2, 32, 32), 1.25))


def test_integrate_velocity_is_vecint():
    """mmecho's integrate_velocity = VoxelMorph's VecInt (scale by 2^-n, n
    self-compositions); inside the image also with VoxelMorph's zeros."""
    g = torch.Generator().manual_seed(1)
    v = F.interpolate(
        torch.randn(1, 2, 6, 6, generator=g, dtype=torch.float64) * 2,
        size=(40, 40),
        mode='bicubic',
        align_corners=True)
    for steps in (0, 1, 7):
        ours = integrate_velocity(v, steps)
        ref = _VxmVecInt((40, 40), steps, 'border').double()(v)
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)
    # |v| <= 1.5 px: zero padding changes a few pixels near the border only
    small = v * 0.2
    ours = integrate_velocity(small, 7)
    ref = _VxmVecInt((40, 40), 7, 'zeros').double()(small)
    assert float((ours - ref).abs().max()) > 1e-3
    torch.testing.assert_close(
        ours[..., 6:-6, 6:-6], ref[..., 6:-6, 6:-6], rtol=0, atol=1e-10)


def _cfg(name):
    register_all_modules()
    return Config.fromfile(f'{ROOT}/configs/mnms/{name}.py')


@pytest.mark.parametrize('name', ['voxelmorph_mnms', 'voxelmorph_mnms-phantom'])
def test_mnms_configs_are_voxelmorph_defaults(name):
    cfg = _cfg(name)
    net = cfg.model.network
    assert cfg.model.type == 'VoxelMorphRegistrator'
    assert net.type == 'VoxelMorphUNet'
    assert list(net.enc_channels) == ENC and list(net.dec_channels) == DEC
    assert net.integration_steps == 7 and net.int_downsize == 2
    assert cfg.model.loss_similarity.type == 'mmdet.MSELoss'
    assert cfg.model.loss_similarity.loss_weight == 1.0
    # lambda 0.01 x Grad's loss_mult = int_downsize
    assert cfg.model.loss_regularization.type == 'DiffusionLoss'
    assert math.isclose(cfg.model.loss_regularization.loss_weight, 0.02)
    assert cfg.model.loss_label.loss_weight == 0.01
    assert not cfg.model.loss_label.include_background
    size = cfg.train_dataloader.dataset.size
    assert all(s % 16 == 0 for s in size)
    if name == 'voxelmorph_mnms':
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 1e-4


def _vxm_grad_l2(flow, loss_mult):
    """vxm.losses.Grad('l2', loss_mult).loss (torch and TF agree)."""
    dy = flow[:, :, 1:, :] - flow[:, :, :-1, :]
    dx = flow[:, :, :, 1:] - flow[:, :, :, :-1]
    df = [(d * d).flatten(1).mean(-1) for d in (dy, dx)]
    return ((sum(df) / len(df)) * loss_mult).mean()


def test_mnms_model_losses_follow_voxelmorph():
    """The built model: MSE on the images, lambda x Grad('l2',
    loss_mult=2) on the half-resolution pre-integration velocity, 0.01 x
    Dice of the warped labels."""
    cfg = _cfg('voxelmorph_mnms-phantom')
    model = MODELS.build(cfg.model)
    assert isinstance(model, VoxelMorphRegistrator)
    assert sum(p.numel() for p in model.parameters()) == VXM_DENSE_2D_PARAMS
    with torch.no_grad():
        model.network.flow.weight.normal_(0, 0.05)
    fixed, moving = _pair(64)
    inputs = torch.cat([fixed, moving], 1)
    labels = (inputs > 0.5).long()
    batch = dict(labels=labels, has_labels=torch.tensor([True, False]))
    losses = model(inputs, batch, mode='loss')
    assert set(losses) == {'loss_sim', 'loss_reg', 'loss_label'}
    net = VoxelMorphUNet(**{
        k: v
        for k, v in cfg.model.network.items() if k != 'type'
    })
    net.load_state_dict(model.network.state_dict())
    disp = net(fixed, moving)
    vel = net.preint_flow
    assert vel.shape == (2, 2, 32, 32)
    from mmecho.registration import warp
    warped = warp(moving, disp)
    torch.testing.assert_close(losses['loss_sim'],
                               ((fixed - warped)**2).mean())
    expected = 0.01 * _vxm_grad_l2(vel, 2)
    torch.testing.assert_close(
        losses['loss_reg'], expected, rtol=1e-5, atol=0,
        msg=lambda m: 'DiffusionLoss is not neurite\'s Grad(\'l2\') yet '
        '(the regulariser change of the other work item): ' + m)
    assert float(losses['loss_label']) <= 0.01 + 1e-6
    assert model.network.preint_flow is None  # graph not kept
