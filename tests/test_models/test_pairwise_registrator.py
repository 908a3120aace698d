"""Unit tests of :class:`PairwiseRegistrator` (``mmecho/models/
registrators/pairwise_registrator.py``) with a tiny B-spline network and
with fixed fields (a stand-in network) on 32 x 32 pairs."""
import pytest
import torch
import torch.nn as nn

from mmecho.models import PairwiseRegistrator
from mmecho.registration import NonFiniteError
from mmecho.registry import MODELS

K, N = 4, 32


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='PairwiseRegistrator',
        network=dict(type='BSplineRegistrationNet', grid_spacing=8, kernels=4),
        loss_similarity=dict(type='NCCLoss'),
        loss_regularization=dict(type='BendingEnergyLoss', loss_weight=1.0),
        num_classes=K)
    cfg.update(kwargs)
    return MODELS.build(cfg)


class FixedField(nn.Module):
    """A stand-in network that returns a given (1, 2, H, W) field."""

    def __init__(self, field):
        super().__init__()
        self.field = field

    def forward(self, fixed, moving):
        return self.field.expand(fixed.shape[0], -1, -1, -1)


def blobs(batch=2, seed=1):
    """Smooth random images in [0, 1] (box-filtered noise)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 1, N, N, generator=g)
    x = nn.functional.avg_pool2d(x, 5, stride=1, padding=2)
    return (x - x.min()) / (x.max() - x.min())


def test_displacement_shape_and_tensor_mode():
    model = build()
    assert isinstance(model, PairwiseRegistrator)
    inputs = torch.cat([blobs(), blobs(seed=2)], 1)  # (B, 2, H, W)
    assert tuple(model(inputs).shape) == (2, 2, N, N)


def test_losses_keys_finite_and_gradients():
    model = build()
    inputs = torch.cat([blobs(), blobs(seed=2)], 1)
    losses = model(inputs, mode='loss')
    assert set(losses) == {'loss_sim', 'loss_reg'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert -1 <= losses['loss_sim'].item() <= 1
    assert losses['loss_reg'].item() >= 0
    sum(losses.values()).backward()
    assert model.network.head.weight.grad.abs().sum() > 0


def test_identical_images_with_the_identity_field():
    """NCC is 1 for identical images, bending energy 0 for a zero field:
    loss_sim = -1, loss_reg = 0; no folding."""
    model = build()
    model.network = FixedField(torch.zeros(1, 2, N, N))
    x = blobs()
    losses = model(torch.cat([x, x], 1), mode='loss')
    torch.testing.assert_close(losses['loss_sim'], torch.tensor(-1.0))
    assert losses['loss_reg'].item() == 0
    out = model(torch.cat([x, x], 1), mode='predict')
    assert len(out) == 2
    for rec in out:
        assert set(rec) == {'ncc_before', 'ncc_after', 'folding'}
        assert rec['ncc_before'] == pytest.approx(1.0, abs=1e-5)
        assert rec['ncc_after'] == pytest.approx(1.0, abs=1e-5)
        assert rec['folding'] == 0.0


def test_field_maps_fixed_to_moving_coordinates():
    """moving = fixed shifted 3 px to the right; the field u = (0, +3)
    samples moving at x + 3 and recovers fixed, for images and labels
    (the image is black near the left and right sides, so nothing comes
    from outside)."""
    model = build()
    model.network = FixedField(
        torch.tensor([0.0, 3.0]).view(1, 2, 1, 1).expand(1, 2, N, N))
    fixed = blobs(1)
    fixed[..., :6] = 0
    fixed[..., -6:] = 0
    moving = torch.roll(fixed, 3, dims=3)
    labels = (fixed > 0.5).long()
    data = dict(
        labels=torch.cat([labels, torch.roll(labels, 3, dims=3)], 1),
        has_labels=torch.tensor([True]))
    rec = model(torch.cat([fixed, moving], 1), data, mode='predict')[0]
    assert rec['ncc_after'] == pytest.approx(1.0, abs=1e-5)
    assert rec['ncc_before'] < 0.9
    assert rec['folding'] == 0.0
    assert set(rec) >= {'labels_fixed', 'labels_moving', 'labels_warped'}
    assert tuple(rec['labels_warped'].shape) == (N, N)
    assert torch.equal(rec['labels_warped'], rec['labels_fixed'])
    assert not torch.equal(rec['labels_moving'], rec['labels_fixed'])


def test_folding_fraction():
    """u_x = -2 x mirrors every row (x + u = -x): the Jacobian determinant
    is -1 everywhere."""
    model = build()
    xs = torch.arange(N, dtype=torch.float32)
    field = torch.stack([torch.zeros(N, N), (-2 * xs).expand(N, N)])[None]
    model.network = FixedField(field)
    x = blobs(1)
    assert model(torch.cat([x, x], 1), mode='predict')[0]['folding'] == 1.0


def test_label_loss_only_when_labels_are_there():
    model = build(
        loss_label=dict(type='MultiClassDiceLoss', include_background=False))
    inputs = torch.cat([blobs(), blobs(seed=2)], 1)
    torch.manual_seed(3)
    labels = torch.randint(0, K, (2, 2, N, N))
    some = model(
        inputs,
        dict(labels=labels, has_labels=torch.tensor([True, False])),
        mode='loss')
    assert set(some) == {'loss_sim', 'loss_reg', 'loss_label'}
    assert 0 < some['loss_label'].item() <= 1
    none = model(
        inputs,
        dict(labels=labels, has_labels=torch.tensor([False, False])),
        mode='loss')
    assert none['loss_label'].item() == 0
    sum(none.values()).backward()  # the zero keeps a graph
    # no label dict at all: no label loss
    assert 'loss_label' not in model(inputs, mode='loss')


def test_non_finite_fields_are_refused():
    model = build()
    field = torch.zeros(1, 2, N, N)
    field[0, 0, 3, 3] = float('nan')
    model.network = FixedField(field)
    x = blobs(1)
    with pytest.raises(NonFiniteError, match='displacement predicted by'):
        model(torch.cat([x, x], 1), mode='loss')


def test_unknown_mode():
    x = blobs(1)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        build()(torch.cat([x, x], 1), mode='other')
