"""Echo segmentation metrics: closed-form cases, MONAI agreement, empty-mask
policy, outlier criteria, shape descriptors and clinical indices."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch

from mmecho.datasets.io import load_medical_image
from mmecho.evaluation import EchoSegMetric
from mmecho.evaluation.functional import (OutlierCriteria, convexity, dice,
                                          hausdorff_and_mad, simplicity)


def square(shape, top, left, size):
    m = np.zeros(shape, bool)
    m[top:top + size, left:left + size] = True
    return m


def disc(shape, cy, cx, r):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (yy - cy)**2 + (xx - cx)**2 <= r * r


def test_shifted_square_has_known_distances():
    a = square((64, 64), 10, 10, 20)
    b = square((64, 64), 10, 13, 20)  # 3 px right
    hd, mad = hausdorff_and_mad(a, b, (1.0, 1.0))
    assert hd == pytest.approx(3.0)
    # anisotropic spacing: columns are 0.5 mm, rows 2 mm
    hd_aniso, _ = hausdorff_and_mad(a, b, (2.0, 0.5))
    assert hd_aniso == pytest.approx(1.5)
    assert dice(a, b) == pytest.approx(2 * 17 * 20 / 800)
    assert hausdorff_and_mad(a, a, (1, 1)) == (0.0, 0.0)
    assert 0 < mad < hd


def test_empty_masks_have_defined_results():
    a = square((40, 30), 5, 5, 10)
    empty = np.zeros_like(a)
    diag = np.hypot(40 * 0.5, 30 * 2.0)
    assert hausdorff_and_mad(empty, empty, (0.5, 2.0)) == (0.0, 0.0)
    assert hausdorff_and_mad(a, empty,
                             (0.5, 2.0)) == (pytest.approx(diag), ) * 2
    assert hausdorff_and_mad(empty, a,
                             (0.5, 2.0)) == (pytest.approx(diag), ) * 2
    assert dice(empty, empty) == 1.0 and dice(a, empty) == 0.0


def _monai_reference(pred, ref, spacing):
    from monai.metrics import (compute_average_surface_distance,
                               compute_hausdorff_distance)
    p = torch.from_numpy(pred)[None, None].float()
    r = torch.from_numpy(ref)[None, None].float()
    hd = compute_hausdorff_distance(
        p, r, include_background=True, spacing=list(spacing)).item()
    # CAMUS d_m: mean of the two directed mean distances
    d_pr = compute_average_surface_distance(
        p, r, include_background=True, spacing=list(spacing)).item()
    d_rp = compute_average_surface_distance(
        r, p, include_background=True, spacing=list(spacing)).item()
    return hd, 0.5 * (d_pr + d_rp)


def test_agrees_with_monai_on_random_and_phantom_masks(camus_root):
    rng = np.random.default_rng(0)
    cases = []
    for _ in range(6):  # random blobs, one touching the image border
        a = disc((96, 80), *rng.integers(10, 70, 2), rng.integers(5, 25))
        b = disc((96, 80), *rng.integers(10, 70, 2), rng.integers(5, 25))
        b |= rng.random((96, 80)) > 0.995  # speckle: many components
        cases.append((a, b, tuple(rng.uniform(0.2, 1.5, 2))))
    for path in sorted(
            glob.glob(
                osp.join(camus_root, 'database_nifti', '*',
                         '*_half_sequence_gt.nii.gz')))[:2]:
        seq, spacing = load_medical_image(path)
        for label in (1, 2, 3):
            cases.append((seq[0] == label, seq[-1] == label, spacing[-2:]))
    for pred, ref, spacing in cases:
        hd, mad = hausdorff_and_mad(pred, ref, spacing)
        hd_m, mad_m = _monai_reference(pred, ref, spacing)
        assert hd == pytest.approx(hd_m, rel=1e-5, abs=1e-5)
        assert mad == pytest.approx(mad_m, rel=1e-5, abs=1e-5)


def test_shape_descriptors():
    rect = square((50, 50), 5, 5, 30)
    assert convexity(rect) == pytest.approx(1.0)
    ell = np.zeros((50, 50), bool)
    ell[5:35, 5:15] = True
    ell[25:35, 5:35] = True  # an L of 500 px; hull = 30x30 box - 20x20/2
    assert convexity(ell) == pytest.approx(500 / 700, abs=1e-6)
    big = disc((301, 301), 150, 150, 120)
    assert simplicity(big) == pytest.approx(1.0, abs=0.02)
    ring = big & ~disc((301, 301), 150, 150, 110)
    assert simplicity(ring) < 0.3
    assert convexity(np.zeros((5, 5), bool)) == 0.0
    assert simplicity(np.zeros((5, 5), bool)) == 0.0


def test_outlier_criteria_table_one():
    c = OutlierCriteria()
    ok = dict(LV=(1.0, 5.0), EPI=(1.0, 5.0))
    assert not c.is_geometric_outlier('ED', ok)
    assert c.is_geometric_outlier('ED', dict(ok, LV=(3.6, 5.0)))  # MAD > 3.5
    assert not c.is_geometric_outlier('ES', dict(ok, LV=(3.6, 5.0)))  # < 4.0
    assert c.is_geometric_outlier('ED', dict(ok, EPI=(1.0, 8.3)))  # HD > 8.2
    assert not c.is_geometric_outlier('ES', dict(ok, EPI=(1.0, 8.3)))
    assert c.is_geometric_outlier('t05', dict(ok, EPI=(1.0, 8.9)))  # ES lim.
    # MYO and LA are not geometric criteria
    assert not c.is_geometric_outlier('ED', dict(ok, LA=(30.0, 60.0)))
    good = dict(LV=(0.80, 0.97), EPI=(0.85, 0.98), MYO=(0.3, 0.4))
    assert not c.is_anatomical_outlier(good)
    assert c.is_anatomical_outlier(dict(good, LV=(0.73, 0.97)))
    assert c.is_anatomical_outlier(dict(good, LV=(0.80, 0.95)))
    assert c.is_anatomical_outlier(dict(good, EPI=(0.52, 0.98)))
    assert c.is_anatomical_outlier(dict(good, EPI=(0.85, 0.69)))


def _sample(pred, ref, spacing=(1.0, 1.0), **meta):
    return dict(
        pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
        gt_sem_seg=dict(data=torch.from_numpy(ref)[None]),
        spacing=spacing,
        **meta)


def test_metric_counts_hand_made_outliers():
    shape = (120, 120)
    ref = np.zeros(shape, np.int64)
    ref[disc(shape, 60, 60, 40)] = 2
    ref[disc(shape, 60, 60, 30)] = 1
    good = ref.copy()
    shifted = np.roll(ref, 10, axis=1)  # LV and EPI 10 mm off: HD > 8.8
    missing = ref.copy()
    missing[missing == 1] = 0  # no LV cavity predicted
    metric = EchoSegMetric()
    metric.process(None, [
        _sample(good, ref, instant='ED'),
        _sample(shifted, ref, instant='ES'),
        _sample(missing, ref, instant='ED')
    ])
    out = metric.compute_metrics(metric.results)
    # shifted: geometric; missing cavity: geometric (HD = diagonal) and
    # anatomical (Sp = Cx = 0); the identical prediction: neither
    assert out['geo_outliers'] == 2
    assert out['ana_outliers'] == 1
    assert out['missing_pred'] == 1
    assert out['LV_ED_Dice'] == pytest.approx(0.5)  # 1 and 0
    assert out['LV_ED_HD'] == pytest.approx(np.hypot(120, 120) / 2)
    assert out['LV_ES_HD'] == pytest.approx(10.0)
    assert out['aAcc'] < 1.0 and out['mIoU'] < 1.0
    assert not any(np.isnan(v) for v in out.values())


def test_clinical_indices_of_the_reference_are_exact(camus_root, tmp_path):
    """Predicting the phantom's own ED/ES labels gives EF errors of zero and
    the EF the phantom wrote in Info_*.cfg."""
    from mmecho.datasets.camus import CAMUSFiles
    metric = EchoSegMetric(output_dir=str(tmp_path))
    info_ef = {}
    for pdir in sorted(
            glob.glob(osp.join(camus_root, 'database_nifti', 'patient*'))):
        pid = osp.basename(pdir)
        for view in ('2CH', '4CH'):
            files = CAMUSFiles(camus_root, 'database_nifti', pid, view)
            info_ef[pid] = files.info()['EF']
            for inst in ('ED', 'ES'):
                lab, spacing = load_medical_image(files.instant(inst, True))
                lab = np.asarray(lab, np.int64)
                metric.process(None, [
                    _sample(
                        lab,
                        lab,
                        tuple(spacing[-2:]),
                        instant=inst,
                        patient=pid,
                        view=view)
                ])
    out = metric.compute_metrics(metric.results)
    assert out['n_patients'] == len(info_ef)
    assert out['EF_MAE'] == pytest.approx(0.0, abs=1e-9)
    assert out['EDV_bias'] == pytest.approx(0.0, abs=1e-9)
    import csv
    rows = list(csv.DictReader(open(tmp_path / 'clinical.csv')))
    for r in rows:
        assert float(r['EF_ref']) == pytest.approx(
            info_ef[r['patient']], abs=0.01)
    assert (tmp_path / 'bland_altman.png').stat().st_size > 0
    assert len(list(csv.DictReader(open(tmp_path / 'per_image.csv')))) == \
        4 * len(info_ef)


def test_pooled_mad_matches_the_symmetric_definition():
    a = disc((80, 80), 40, 40, 20)
    b = square((80, 80), 25, 30, 12)  # a much shorter contour
    from mmecho.evaluation.functional import directed_surface_distances
    d_ab, d_ba = directed_surface_distances(a, b, (0.5, 0.5))
    _, mad = hausdorff_and_mad(a, b, (0.5, 0.5))
    _, pooled = hausdorff_and_mad(a, b, (0.5, 0.5), mad_mode='pooled')
    assert mad == pytest.approx(0.5 * (d_ab.mean() + d_ba.mean()))
    assert pooled == pytest.approx(np.concatenate([d_ab, d_ba]).mean())
    assert pooled != pytest.approx(mad)
    with pytest.raises(ValueError, match='mad_mode'):
        hausdorff_and_mad(a, b, (1, 1), mad_mode='median')
