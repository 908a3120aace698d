"""Issue 14: registration as the papers' libraries ran it.

Closed forms stated in the conventions of TorchIR (paper 001: bending
energy, B-spline placement and channel order), VoxelMorph / neurite (paper
003: ``Grad('l2')``, local NCC) and paper 001's reference code (Eq. 2 in
pixel areas with a trapezoid), plus the CAMUS pseudo-label ED/ES frames and
``exclude=`` of the frame-pair dataset.
"""
import os.path as osp

import numpy as np
import pytest
import torch

from mmecho.registration import (BSplineTransformer, bending_energy,
                                 diffusion_energy, local_ncc)


def _grid(h, w):
    return torch.meshgrid(
        torch.arange(h, dtype=torch.float64),
        torch.arange(w, dtype=torch.float64),
        indexing='ij')


def _field(uy, ux):
    """mmecho's (dy, dx) channel order, one sample."""
    return torch.stack([uy, ux])[None]


def test_bending_energy_torchir_closed_forms():
    """TorchIR's ``bending_energy_2d``: forward second differences, mean
    over the (H-2) x (W-2) positions AND over the two components.
    ``u_x = a x^2`` (u_y = 0): u_xx = 2a in one of two components ->
    (2a)^2 / 2 = 2 a^2; ``u_x = a x y``: 2 u_xy^2 / 2 = a^2; affine: 0. The
    channel order does not matter."""
    y, x = _grid(24, 20)
    a = 0.05
    zero = torch.zeros_like(x)
    quad = _field(zero, a * x**2)
    assert bending_energy(quad).item() == pytest.approx(2 * a**2)
    assert bending_energy(quad.flip(1)).item() == pytest.approx(2 * a**2)
    quad_y = _field(a * y**2, zero)
    assert bending_energy(quad_y).item() == pytest.approx(2 * a**2)
    mixed = _field(zero, a * x * y)
    assert bending_energy(mixed).item() == pytest.approx(a**2)
    affine = _field(0.3 * y - 0.2 * x + 4, 0.1 * y + 0.7 * x - 2)
    assert bending_energy(affine).abs().max() < 1e-20
    # per sample
    both = torch.cat([quad, mixed])
    assert torch.allclose(
        bending_energy(both),
        torch.tensor([2 * a**2, a**2], dtype=torch.float64))


def test_diffusion_energy_voxelmorph_closed_forms():
    """VoxelMorph / neurite ``Grad('l2')`` (loss_mult None): per axis the
    mean of the squared forward differences over components and that
    axis's own positions, then the mean of the two axes.
    ``u_x = a x`` (u_y = 0): x axis (a^2 + 0) / 2, y axis 0 -> a^2 / 4."""
    y, x = _grid(10, 12)
    a, b = 0.5, 0.3
    zero = torch.zeros_like(x)
    assert diffusion_energy(_field(zero, a * x)).item() == \
        pytest.approx(a**2 / 4)
    assert diffusion_energy(_field(b * y, zero)).item() == \
        pytest.approx(b**2 / 4)
    # u_y = b x: the y component varies along x -> also b^2 / 4
    assert diffusion_energy(_field(b * x, zero)).item() == \
        pytest.approx(b**2 / 4)
    assert diffusion_energy(_field(b * y, a * x)).item() == \
        pytest.approx((a**2 + b**2) / 4)
    const = _field(torch.full_like(x, 3.0), torch.full_like(x, -1.0))
    assert diffusion_energy(const).item() == 0
    # u_x = a x^2 / 2 on W columns: the x differences are a (x + 1/2),
    # x = 0..W-2, the same in every row
    W = x.shape[1]
    d = a * (np.arange(W - 1) + 0.5)
    expect = (d**2).mean() / 2 / 2
    assert diffusion_energy(_field(zero, a * x**2 / 2)).item() == \
        pytest.approx(expect)


def _brute_local_ncc(f, m, win, eps=1e-5):
    """VoxelMorph's local NCC by explicit loops over every window (zero
    padding: padded pixels are zeros inside the window)."""
    H, W = f.shape
    r = win // 2
    fp = np.pad(f, r)
    mp = np.pad(m, r)
    cc = np.zeros((H, W))
    for i in range(H):
        for j in range(W):
            p = fp[i:i + win, j:j + win]
            q = mp[i:i + win, j:j + win]
            pc, qc = p - p.mean(), q - q.mean()
            cross = (pc * qc).sum()
            cc[i, j] = cross**2 / ((pc**2).sum() * (qc**2).sum() + eps)
    return cc.mean()


@pytest.mark.parametrize('win', [9, 5])
def test_local_ncc_matches_brute_force(win):
    rng = np.random.default_rng(0)
    f = rng.random((2, 1, 13, 11))
    m = 0.5 * f + 0.5 * rng.random((2, 1, 13, 11))
    m[1, 0, :6] = 0.2  # a flat band in the second moving image
    out = local_ncc(
        torch.from_numpy(f), torch.from_numpy(m), window=win)
    assert out.shape == (2, )
    for b in range(2):
        assert out[b].item() == pytest.approx(
            _brute_local_ncc(f[b, 0], m[b, 0], win), rel=1e-9)
    # default window is VoxelMorph's 9
    if win == 9:
        assert torch.allclose(
            local_ncc(torch.from_numpy(f), torch.from_numpy(m)), out)


def test_local_ncc_closed_forms_and_loss():
    rng = np.random.default_rng(1)
    f = torch.from_numpy(rng.random((1, 1, 20, 20)))
    # identical textured images: cc = var^2 / (var^2 + 1e-5) ~ 1 everywhere
    assert local_ncc(f, f).item() == pytest.approx(1.0, abs=1e-5)
    # squared: a negative scaling also gives ~1 (no offset: the zero
    # padding at the border is not transformed)
    assert local_ncc(f, -2 * f).item() == pytest.approx(1.0, abs=1e-5)
    # with an offset the border windows mix in the padded zeros
    assert local_ncc(f, 1 - 2 * f).item() < 0.9
    # flat (zero) image: no variance in any window, padding included -> 0
    assert local_ncc(f, torch.zeros_like(f)).item() == 0.0
    from mmecho.registry import MODELS
    loss = MODELS.build(dict(type='LocalNCCLoss', loss_weight=2.0))
    assert loss(f, f).item() == pytest.approx(-2.0, abs=1e-4)


def test_bspline_torchir_placement():
    """TorchIR's BsplineTransformer: control point k at (k + 0.5) S - 1, no
    outer points. A constant grid of 3 px gives 3.0 px in the middle and
    0.75 px at the last corner (H-1, W-1); mmecho's placement keeps 3.0
    everywhere."""
    S, H, W = 32, 512, 512
    c = torch.full((1, 2, 16, 16), 3.0, dtype=torch.float64)
    tir = BSplineTransformer(S, convention='torchir')(c, (H, W))
    assert tir[0, :, 256, 256].tolist() == pytest.approx([3.0, 3.0])
    assert tir[0, :, H - 1, W - 1].tolist() == pytest.approx([0.75, 0.75])
    assert tir[0, 0, 0, 0].item() < 1.0
    ours = BSplineTransformer(S, convention='mmecho')(c, (H, W))
    assert torch.allclose(ours, torch.full_like(ours, 3.0))
    # impulse of point (2, 5): peak 2/3 * 2/3 at pixel ((2.5) S - 1,
    # (5.5) S - 1) = (79, 175)
    one = torch.zeros(1, 2, 16, 16, dtype=torch.float64)
    one[0, :, 2, 5] = 1.0
    f = BSplineTransformer(S, convention='torchir')(one, (H, W))[0, 0]
    idx = divmod(int(f.argmax()), W)
    assert idx == (79, 175)
    assert f.max().item() == pytest.approx(4 / 9)
    with pytest.raises(ValueError, match='convention'):
        BSplineTransformer(S, convention='elastix')


def test_bspline_net_torchir_channel_order():
    """TorchIR's channel 0 is x: a head predicting (1, 0) in TorchIR order
    is a displacement along x; the network returns mmecho's (dy, dx)."""
    from mmecho.models.registrators import BSplineRegistrationNet
    S = 8
    for convention, expect in (('torchir', (0.0, S)), ('mmecho', (S, 0.0))):
        net = BSplineRegistrationNet(
            grid_spacing=S, kernels=4, convention=convention)
        with torch.no_grad():
            net.head.weight.zero_()
            net.head.bias.copy_(torch.tensor([1.0, 0.0]))
        img = torch.rand(1, 1, 64, 64)
        out = net(img, img)
        assert out.shape == (1, 2, 64, 64)
        mid = out[0, :, 32, 32].tolist()
        assert mid == pytest.approx(list(expect), abs=1e-5)


def test_frame_pairs_exclude_split_file(camus_root, tmp_path):
    """``exclude=`` takes a split file (path relative to data_root), as the
    94 TED patients paper 001 left out."""
    from mmecho.datasets import CAMUSFramePairDataset
    full = CAMUSFramePairDataset(
        data_root=camus_root, size=(32, 32), views=('4CH', ))
    patients = sorted({d['patient'] for d in full.sequence_list()})
    assert len(patients) >= 2
    rel = 'ted_patients_issue14.txt'
    with open(osp.join(camus_root, rel), 'w') as f:
        f.write('\n'.join(patients[:2]) + '\n')
    ds = CAMUSFramePairDataset(
        data_root=camus_root, size=(32, 32), views=('4CH', ), exclude=rel)
    kept = sorted({d['patient'] for d in ds.sequence_list()})
    assert kept == patients[2:]
    assert all(
        ds.get_data_info(i)['patient'] not in patients[:2]
        for i in range(len(ds)))


@pytest.mark.parametrize('mode', ['forward', 'backward', 'bidirectional'])
def test_camus_pseudo_labels_keep_manual_ed_es(camus_root, tmp_path, mode):
    """The first and last propagated frames of a CAMUS pseudo-label file
    equal the manual ED and ES labels exactly, after closing, whatever the
    field."""
    from mmecho.datasets.camus import CAMUSFiles, resolve_patients
    from mmecho.datasets.io import load_medical_image
    from mmecho.registration.pseudo_labels import (PSEUDO_NAME, CAMUSAdapter,
                                                   Propagation,
                                                   generate_pseudo_labels)

    def shift(fixed, moving):  # 2.5 px down, -1.5 px right, everywhere
        d = torch.zeros(fixed.shape[0], 2, *fixed.shape[2:])
        d[:, 0], d[:, 1] = 2.5, -1.5
        return d

    out = str(tmp_path / mode)
    pid = resolve_patients(camus_root, 'database_nifti', None)[0]
    generate_pseudo_labels(
        CAMUSAdapter(camus_root, split=[pid], views=('2CH', )),
        shift,
        out,
        propagation=Propagation(mode=mode, size=(48, 40), closing_kernel=5),
        progress=False)
    files = CAMUSFiles(camus_root, 'database_nifti', pid, '2CH')
    seq = files.ed_to_es()
    ed_lab, es_lab = files.instant_labels(seq['frames'].shape[1:])
    stem = files.label_stem(out) + f'_{PSEUDO_NAME}'
    path = stem + ('.nii' if osp.exists(stem + '.nii') else '.nii.gz')
    lab, _ = load_medical_image(path)
    assert np.array_equal(lab[seq['ed']], ed_lab)
    assert np.array_equal(lab[seq['es']], es_lab)
    # the inner frames are propagated (the shift moved them)
    inner = lab[seq['ed'] + 1:seq['es']]
    assert len(inner) and not all(
        np.array_equal(f, ed_lab) or np.array_equal(f, es_lab)
        for f in inner)


def test_eq2_reference_pixel_trapezoid_closed_form():
    """Eq. 2 as paper 001's reference code: areas in pixels, d2 =
    np.diff(a, 2), trapezoid over the N - 2 values. For a(t) = a0 + c t^3
    (t = 0..N-1 frames): d2_k = 6 c (k + 1), so
    trapz = 36 c^2 (sum_{j=1}^{N-2} j^2 - (1 + (N-2)^2) / 2) px^2;
    mmecho's cm^4 sum: 36 c^2 sum_{j=1}^{N-2} j^2 x (px_mm2 / 100)^2."""
    from mmecho.evaluation import TemporalSegMetric
    from mmecho.evaluation.functional import temporal_smoothness_trapz
    N, c, a0 = 7, 1, 20
    areas = a0 + c * np.arange(N)**3  # 20 .. 236 px
    H, W = 16, 16
    pred = np.zeros((N, H, W), np.uint8)
    for t, n in enumerate(areas):
        pred.reshape(N, -1)[t, :n] = 1  # LV
    spacing = (0.5, 0.4)
    px_cm2 = spacing[0] * spacing[1] / 100.0
    s2 = sum(j**2 for j in range(1, N - 1))
    trapz = 36 * c**2 * (s2 - (1 + (N - 2)**2) / 2)
    assert temporal_smoothness_trapz(areas) == pytest.approx(trapz)
    rec = TemporalSegMetric(plot_area_curves=False).evaluate_sequence(
        pred, pred.copy(), spacing)
    assert rec['LV_smooth_px_trapz'] == pytest.approx(trapz)
    assert rec['LV_smooth_px_trapz_ref'] == pytest.approx(trapz)
    assert rec['LV_smooth'] == pytest.approx(36 * c**2 * s2 * px_cm2**2)
    # quadratic: constant d2 = 2c -> trapz 4 c^2 (N - 3), sum 4 c^2 (N - 2)
    q = 5 + 3 * np.arange(N)**2
    assert temporal_smoothness_trapz(q) == pytest.approx(36 * (N - 3))
    assert temporal_smoothness_trapz(np.arange(3.0)) == 0.0
