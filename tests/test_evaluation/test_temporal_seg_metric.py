"""Eq. 2 smoothness and the sequence metric on synthetic sequences."""
import numpy as np
import pytest
import torch

from mmecho.evaluation import TemporalSegMetric
from mmecho.evaluation.functional import area_curve, temporal_smoothness


def test_smoothness_closed_forms():
    t = np.arange(12, dtype=float)
    assert temporal_smoothness(3 * t + 5) == 0.0
    # a = c t^2: a'' = 2c at each of the T - 2 inner frames
    assert temporal_smoothness(0.5 * t**2) == pytest.approx(10 * 1.0)
    assert temporal_smoothness([1.0, 2.0]) == 0.0
    labels = np.zeros((3, 4, 5), np.uint8)
    labels[1, :2, :2] = 1
    assert area_curve(labels, (1, ), (0.5, 2.0)).tolist() == [0, 4.0, 0]


def disc_sequence(radii, shape=(64, 64)):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    r = np.hypot(yy - 32, xx - 32)
    return np.stack([(r <= k).astype(np.uint8) for k in radii])


def samples(pred, gt, patient, view):
    out = []
    for t in range(len(pred)):
        out.append(
            dict(
                patient=patient,
                view=view,
                frame_index=t,
                num_frames=len(pred),
                spacing=(0.5, 0.5),
                pred_sem_seg=dict(data=torch.from_numpy(pred[t][None])),
                gt_sem_seg=dict(data=torch.from_numpy(gt[t][None]))))
    return out


def test_metric_scores_accuracy_volumes_and_smoothness():
    radii = np.linspace(20, 14, 10)
    gt = disc_sequence(radii)
    jitter = disc_sequence(radii +
                           np.array([0, 2, -2, 2, -2, 2, -2, 2, -2, 0]))
    metric = TemporalSegMetric(structures=dict(LV=(1, )))
    metric.dataset_meta = {}
    for pid, pred in (('p1', gt), ('p2', jitter)):
        for view in ('2CH', '4CH'):
            # frames arrive in any order, as from a sampler
            batch = samples(pred, gt, pid, view)[::-1]
            metric.process(None, batch)
    res = metric.evaluate(size=1)  # size counts items, not frames
    assert res['seq/n_sequences'] == 4 and res['seq/n_patients'] == 2
    per = {}
    for pid, pred in (('p1', gt), ('p2', jitter)):
        per[pid] = metric.evaluate_sequence(pred, gt, (0.5, 0.5))
    assert per['p1']['LV_ED_Dice'] == 1.0 and per['p1']['LV_ES_HD'] == 0.0
    assert per['p1']['LV_smooth'] == pytest.approx(per['p1']['LV_smooth_ref'])
    assert per['p2']['LV_smooth'] > 10 * per['p1']['LV_smooth']
    assert per['p2']['LV_Dice_all'] < 1.0
    # volumes come from the ED and ES frames, which the jitter leaves intact
    assert res['seq/EDV_MAE'] == 0.0 and res['seq/EF_MAE'] == 0.0


def test_metric_needs_every_frame():
    gt = disc_sequence([20, 18, 16])
    metric = TemporalSegMetric(structures=dict(LV=(1, )))
    metric.process(None, samples(gt, gt, 'p', '4CH')[:2])
    with pytest.raises(ValueError, match='frames \\[2\\]'):
        metric.compute_metrics(metric.results)
    with pytest.raises(KeyError, match='num_frames'):
        bad = samples(gt, gt, 'p', '4CH')[0]
        del bad['num_frames']
        metric.process(None, [bad])
