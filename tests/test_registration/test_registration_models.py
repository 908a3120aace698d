"""The registration configs build models that learn a known shift."""
import pytest
import torch
from mmengine.config import Config

from mmecho.registration import warp
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT


def build(name, **overrides):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/configs/registration/{name}.py')
    cfg.model.update(overrides)
    return MODELS.build(cfg.model)


def blob_pair(shift=3, size=64):
    y, x = torch.meshgrid(
        torch.arange(size).float(), torch.arange(size).float(), indexing='ij')
    fixed = torch.exp(-((y - 32)**2 + (x - 30)**2) / 60)
    moving = torch.exp(-((y - 32 - shift)**2 + (x - 30)**2) / 60)
    return torch.stack([fixed, moving])[None]


@pytest.mark.parametrize('name', ['bspline_dlir_camus', 'voxelmorph_camus'])
def test_config_model_fits_a_shift(name):
    torch.manual_seed(0)
    overrides = {}
    if name.startswith('bspline'):
        overrides['network'] = dict(
            type='BSplineRegistrationNet', grid_spacing=8, kernels=16)
    model = build(name, **overrides)
    inputs = blob_pair()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        losses = model(inputs, mode='loss')
        loss = sum(losses.values())
        first = float(losses['loss_sim']) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert set(losses) == {'loss_sim', 'loss_reg'}
    assert float(losses['loss_sim']) < first - 0.05
    disp = model(inputs, mode='tensor')
    assert disp.shape == (1, 2, 64, 64)
    # the moving blob sits 3 rows lower: the field points down at the blob
    assert disp[0, 0, 28:36, 26:34].mean() > 0.5
    rec = model(inputs, mode='predict')[0]
    assert rec['ncc_after'] > rec['ncc_before']


def test_label_supervised_variant_adds_a_label_loss():
    model = build(
        'bspline_dlir_camus',
        network=dict(type='BSplineRegistrationNet', grid_spacing=8),
        loss_label=dict(type='MultiClassDiceLoss', include_background=False))
    inputs = blob_pair()
    labels = (inputs > 0.5).long()
    batch = dict(labels=labels, has_labels=torch.tensor([True]))
    losses = model(inputs, batch, mode='loss')
    assert 'loss_label' in losses and losses['loss_label'].requires_grad
    rec = model(inputs, batch, mode='predict')[0]
    assert rec['labels_warped'].shape == (64, 64)
    # warping changes nothing yet (near-zero initial field)
    assert torch.equal(rec['labels_warped'], labels[0, 1])
    assert torch.allclose(
        warp(inputs[:, 1:], torch.zeros(1, 2, 64, 64)),
        inputs[:, 1:],
        atol=1e-5)
