"""EchoSegMetric's EDV/ESV/EF agreement when prediction and reference differ
by known amounts (not prediction = reference).

Every LV cavity is an ellipse drawn here (a plane through the long axis of a
prolate ellipsoid, V = 4/3 pi a b^2), so each volume and EF is known in
closed form. The predicted ES cavity is chosen so that the predicted EF
differs from the reference EF by exactly +5, -5 and +2 points in closed
form; the ED cavities are shared, so EDV agrees exactly.
"""
import numpy as np
import pytest
import torch

from mmecho.evaluation import EchoSegMetric

SPACING = (0.3, 0.3)
SHAPE = (360, 360)


def cavity(a_mm, b_mm, angle_deg):
    """(H, W) label map: 1 inside the ellipse (semi-axes a along the rotated
    rows, b across), centred, pixel centres tested."""
    h, w = SHAPE
    yy, xx = np.mgrid[:h, :w]
    y = (yy + 0.5) * SPACING[0] - h * SPACING[0] / 2
    x = (xx + 0.5) * SPACING[1] - w * SPACING[1] / 2
    t = np.deg2rad(angle_deg)
    u = y * np.cos(t) + x * np.sin(t)
    v = -y * np.sin(t) + x * np.cos(t)
    return ((u / a_mm)**2 + (v / b_mm)**2 <= 1.0).astype(np.int64)


def prolate_ml(a, b):
    return 4.0 / 3.0 * np.pi * a * b * b / 1000.0


def es_semi_axes(edv_ml, ef_pct, a_es):
    """Semi-axes of the ES ellipsoid (long semi-axis ``a_es``) whose volume
    gives ``ef_pct`` with ``edv_ml``."""
    esv = edv_ml * (1 - ef_pct / 100.0)
    return a_es, float(np.sqrt(esv * 1000.0 * 3 / (4 * np.pi * a_es)))


def sample(pred, ref, instant, patient, view):
    return dict(
        pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
        gt_sem_seg=dict(data=torch.from_numpy(ref)[None]),
        spacing=SPACING,
        instant=instant,
        patient=patient,
        view=view)


# patient: (ED a, ED b, reference EF, EF difference of the prediction)
PATIENTS = {
    'p1': (45.0, 22.0, 60.0, +5.0),
    'p2': (42.0, 25.0, 35.0, -5.0),
    'p3': (48.0, 20.0, 50.0, +2.0),
}


def test_ef_mae_and_bias_of_known_differences(tmp_path):
    metric = EchoSegMetric(output_dir=str(tmp_path))
    truth = {}
    for pid, (a, b, ef_ref, d_ef) in PATIENTS.items():
        edv = prolate_ml(a, b)
        ref_es = es_semi_axes(edv, ef_ref, 0.85 * a)
        pred_es = es_semi_axes(edv, ef_ref + d_ef, 0.85 * a)
        truth[pid] = dict(
            EDV=edv,
            ESV_ref=prolate_ml(*ref_es),
            ESV_pred=prolate_ml(*pred_es),
            dEF=d_ef)
        for view, angle in (('4CH', 10.0), ('2CH', -25.0)):
            ed = cavity(a, b, angle)
            metric.process(None, [
                sample(ed, ed, 'ED', pid, view),
                sample(cavity(*pred_es, angle), cavity(*ref_es, angle), 'ES',
                       pid, view)
            ])
    out = metric.compute_metrics(metric.results)
    assert out['n_patients'] == 3
    d_ef = np.array([t['dEF'] for t in truth.values()])  # +5, -5, +2
    # discretisation: volumes within ~0.5 %, so EF within ~0.3 points
    assert out['EF_bias'] == pytest.approx(d_ef.mean(), abs=0.3)  # 0.67
    assert out['EF_MAE'] == pytest.approx(np.abs(d_ef).mean(), abs=0.3)  # 4
    assert out['EF_sd'] == pytest.approx(d_ef.std(ddof=1), abs=0.3)
    # ED cavities are shared: no EDV error at all
    assert out['EDV_bias'] == 0.0 and out['EDV_MAE'] == 0.0
    # ESV differences in ml, closed form (a wrong volume scale shows here)
    d_esv = np.array([t['ESV_pred'] - t['ESV_ref'] for t in truth.values()])
    assert out['ESV_bias'] == pytest.approx(d_esv.mean(), abs=0.4)
    assert out['ESV_MAE'] == pytest.approx(np.abs(d_esv).mean(), abs=0.4)
    # the per-patient table: EF and volumes of both against closed form
    import csv
    rows = {
        r['patient']: r
        for r in csv.DictReader(open(tmp_path / 'clinical.csv'))
    }
    for pid, (a, b, ef_ref, d) in PATIENTS.items():
        r = rows[pid]
        assert float(r['EF_ref']) == pytest.approx(ef_ref, abs=0.5)
        assert float(r['EF_pred']) == pytest.approx(ef_ref + d, abs=0.5)
        assert float(r['EF_pred']) - float(r['EF_ref']) == pytest.approx(
            d, abs=0.3)
        assert float(r['EDV_ref']) == pytest.approx(
            truth[pid]['EDV'], rel=0.015)
        assert float(r['ESV_ref']) == pytest.approx(
            truth[pid]['ESV_ref'], rel=0.015)
        assert float(r['ESV_pred']) == pytest.approx(
            truth[pid]['ESV_pred'], rel=0.015)
