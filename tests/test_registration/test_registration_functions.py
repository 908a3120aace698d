"""Closed-form checks of the registration building blocks."""
import numpy as np
import pytest
import torch

from mmecho.registration import (BSplineTransformer, bending_energy, compose,
                                 diffusion_energy, fuse_bidirectional,
                                 fusion_weights, normalized_cross_correlation,
                                 propagate_labels, resize_displacement,
                                 signed_distance, warp)


def grid(h, w):
    y, x = torch.meshgrid(
        torch.arange(h, dtype=torch.float64),
        torch.arange(w, dtype=torch.float64),
        indexing='ij')
    return y, x


def test_ncc_closed_forms():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 1, 20, 16, generator=g, dtype=torch.float64)
    assert torch.allclose(
        normalized_cross_correlation(a, a), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(
        normalized_cross_correlation(a, 2.5 * a + 3),
        torch.ones(3, dtype=torch.float64))
    assert torch.allclose(
        normalized_cross_correlation(a, -a),
        -torch.ones(3, dtype=torch.float64))
    b = torch.rand(3, 1, 20, 16, generator=g, dtype=torch.float64)
    assert normalized_cross_correlation(a, b).abs().max() < 0.2


def test_bending_energy_closed_forms():
    y, x = grid(24, 20)
    affine = torch.stack([0.3 * y - 0.2 * x + 4, 0.1 * y + 0.7 * x - 2])[None]
    assert bending_energy(affine).abs().max() < 1e-20
    a = 0.05
    quad = torch.stack([a * x**2, torch.zeros_like(x)])[None]
    # u_xx = 2a in one of the two components (TorchIR averages them): 2 a^2
    assert bending_energy(quad).item() == pytest.approx(2 * a**2)
    mixed = torch.stack([a * x * y, torch.zeros_like(x)])[None]
    # u_xy = a: 2 a^2 / 2 components
    assert bending_energy(mixed).item() == pytest.approx(a**2)


def test_diffusion_energy_closed_forms():
    y, x = grid(10, 12)
    const = torch.stack([torch.full_like(x, 3.0), torch.full_like(x, -1.0)])
    assert diffusion_energy(const[None]).item() == 0
    lin = torch.stack([0.5 * x, torch.zeros_like(x)])[None]
    # VoxelMorph's Grad('l2'): mean over components and directions
    assert diffusion_energy(lin).item() == pytest.approx(0.25 / 4)


def test_identity_warp_returns_input():
    g = torch.Generator().manual_seed(1)
    img = torch.rand(2, 3, 17, 23, generator=g)
    zero = torch.zeros(2, 2, 17, 23)
    assert torch.allclose(warp(img, zero), img, atol=1e-5)
    labels = torch.randint(0, 4, (2, 1, 17, 23), generator=g).float()
    assert torch.equal(warp(labels, zero, mode='nearest'), labels)


def test_translation_warp_and_composition():
    img = torch.zeros(1, 1, 20, 20, dtype=torch.float64)
    img[0, 0, 5, 7] = 1.0
    shift = torch.zeros(1, 2, 20, 20, dtype=torch.float64)
    shift[:, 0] = 2.0  # sample 2 rows below: content moves 2 rows up
    shift[:, 1] = -3.0
    out = warp(img, shift)
    assert out[0, 0, 3, 10] == pytest.approx(1.0)
    both = compose(shift, shift)
    inner = both[:, :, 5:15, 5:15]
    assert torch.allclose(inner[:, 0], torch.full_like(inner[:, 0], 4.0))
    assert torch.allclose(inner[:, 1], torch.full_like(inner[:, 1], -6.0))
    # resizing a field rescales its components to the new pixels
    up = resize_displacement(shift, (39, 20))
    assert torch.allclose(up[:, 0], torch.full_like(up[:, 0], 4.0))
    assert torch.allclose(up[:, 1], torch.full_like(up[:, 1], -3.0))


def test_bspline_partition_of_unity_and_locality():
    bt = BSplineTransformer(8)
    size = (30, 21)
    assert bt.grid_size(size) == (4, 3)
    const = torch.full((1, 2, 4, 3), 2.5, dtype=torch.float64)
    assert torch.allclose(
        bt(const, size), torch.full((1, 2) + size, 2.5, dtype=torch.float64))
    one = torch.zeros(1, 2, 4, 3, dtype=torch.float64)
    one[0, 0, 1, 1] = 1.0
    field = bt(one, size)[0, 0]
    # the bump peaks at the control point's centre pixel (11.5, 11.5) and
    # vanishes two grid spacings away
    assert field.max() <= 2 / 3 + 1e-9
    assert field[11:13, 11:13].min() == field.max()
    assert field[28:, :].abs().max() == 0  # 16.5 px = 2 spacings away
    with pytest.raises(ValueError, match='control grid'):
        bt(torch.zeros(1, 2, 3, 3), size)


def test_fusion_weights_eq1():
    w_f, w_b = fusion_weights(12)
    assert w_f[0] == 1.0 and w_b[0] == 0.0
    assert w_f[-1] == pytest.approx(0.0) and w_b[-1] == pytest.approx(1.0)
    assert np.allclose(w_f + w_b, 1.0)
    assert np.all(np.diff(w_f) < 0)
    assert w_f[0] == 1.0 and fusion_weights(1)[0][0] == 1.0


def disc(shape, centre, radius):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return np.hypot(yy - centre[0], xx - centre[1]) <= radius


def test_signed_distance_sign_and_zero_crossing():
    m = disc((40, 40), (20, 20), 8)
    d = signed_distance(m)
    assert (d[m] > 0).all() and (d[~m] < 0).all()
    # nearest outside pixel of the radius-8 disc: (28, 21), 8.06 px away
    assert d[20, 20] == pytest.approx(np.hypot(8, 1) - 0.5, abs=1e-3)
    assert (signed_distance(np.zeros((5, 5))) < 0).all()


def test_bidirectional_fusion_interpolates_between_directions():
    T, shape = 5, (64, 64)
    fwd = np.stack([disc(shape, (32, 32), 10)] * T).astype(np.uint8)
    bwd = np.stack([disc(shape, (32, 32), 20)] * T).astype(np.uint8)
    out = fuse_bidirectional(fwd, bwd, num_classes=2, closing_kernel=0)
    assert np.array_equal(out[0], fwd[0]) and np.array_equal(out[-1], bwd[-1])
    w_f, w_b = fusion_weights(T)
    for t in range(T):
        radius = np.sqrt(out[t].sum() / np.pi)
        # signed distances of concentric discs blend linearly in the radius
        assert radius == pytest.approx(w_f[t] * 10 + w_b[t] * 20, abs=0.8)


def _scaled_sequence(T=6, shape=(72, 64), seed=0):
    """Frames ``I_t(x) = I_0(c + k_t (x - c))`` and their exact labels."""
    rng = np.random.default_rng(seed)
    c = np.array([36.0, 32.0])
    k = np.linspace(1.0, 1.5, T)  # the object shrinks by 1/1.5
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(np.float64)
    tex = rng.uniform(0, 1, (8, 8))
    frames, labels = [], []
    for t in range(T):
        sy = c[0] + k[t] * (yy - c[0])
        sx = c[1] + k[t] * (xx - c[1])
        r = np.hypot(sy - c[0], sx - c[1])
        lab = 1 * (r <= 14) + 2 * ((r > 14) & (r <= 22))
        pattern = tex[(sy / 9).astype(int) % 8, (sx / 9).astype(int) % 8]
        img = 40 + 150 * (lab > 0) * pattern + 30 * (lab == 2)
        img[0, 0] = t  # lets the oracle know which frame it is given
        frames.append(img.astype(np.uint8))
        labels.append(lab.astype(np.uint8))
    return np.stack(frames), np.stack(labels), k, c


def test_known_deformation_propagation_recovers_labels():
    frames, labels, k, c = _scaled_sequence()
    H, W = frames.shape[1:]
    yy, xx = torch.meshgrid(
        torch.arange(H, dtype=torch.float32),
        torch.arange(W, dtype=torch.float32),
        indexing='ij')

    def oracle(fixed, moving):
        # exact field of the pair: x + u(x) = c + (x - c) k_fixed / k_moving
        out = []
        for f, m in zip(fixed, moving):
            tf = int(round(f[0, 0, 0].item() * 255))
            tm = int(round(m[0, 0, 0].item() * 255))
            s = k[tf] / k[tm] - 1
            out.append(torch.stack([(yy - c[0]) * s, (xx - c[1]) * s]))
        return torch.stack(out)

    for mode in ('forward', 'backward', 'bidirectional'):
        for strategy in ('sequential', 'fixed'):
            pred = propagate_labels(
                oracle,
                frames,
                labels[0],
                labels[-1],
                mode,
                num_classes=3,
                strategy=strategy,
                batch_size=2)
            assert pred.shape == labels.shape and pred.dtype == np.uint8
            for t in range(len(frames)):
                for cls in (1, 2):
                    p, r = pred[t] == cls, labels[t] == cls
                    d = 2 * (p & r).sum() / (p.sum() + r.sum())
                    assert d > 0.93, (mode, strategy, t, cls, d)
    # the zero field only reproduces the ED labels: a real check
    wrong = propagate_labels(lambda f, m: torch.zeros(f.shape[0], 2, H, W),
                             frames, labels[0], labels[-1], 'forward', 3)
    p, r = wrong[-1] == 1, labels[-1] == 1
    assert 2 * (p & r).sum() / (p.sum() + r.sum()) < 0.8


def test_propagation_rejects_bad_input():
    frames, labels, _, _ = _scaled_sequence(T=3)
    with pytest.raises(ValueError, match='mode'):
        propagate_labels(None, frames, labels[0], labels[-1], 'sideways', 3)
    with pytest.raises(ValueError, match='ED label map'):
        propagate_labels(None, frames, labels[0][:5], labels[-1], 'forward', 3)
