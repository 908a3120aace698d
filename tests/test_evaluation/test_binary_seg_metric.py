"""BinarySegMetric: the thesis's Accuracy (soft Dice of probabilities per
batch of 4), mIoU and Recall over background and LV, by hand."""
import json

import pytest
import torch

from mmecho.evaluation import BinarySegMetric


def _sample(prob, gt, name='img.nii.gz'):
    prob = torch.as_tensor(prob, dtype=torch.float32)[None]
    gt = torch.as_tensor(gt)[None]
    return dict(
        seg_logits=dict(data=prob),
        pred_sem_seg=dict(data=(prob > 0.5).long()),
        gt_sem_seg=dict(data=gt),
        img_path=name,
        patient='patient0001')


def test_soft_dice_miou_recall_by_hand(tmp_path):
    # image A: 2x2, reference LV = top row; probabilities 0.9 0.6 / 0.2 0.0
    a = _sample([[0.9, 0.6], [0.2, 0.0]], [[1, 1], [0, 0]])
    # image B: reference LV = one pixel, predicted nowhere (p = 0.4 there)
    b = _sample([[0.4, 0.0], [0.0, 0.0]], [[1, 0], [0, 0]])
    metric = BinarySegMetric(group_size=4, output_dir=str(tmp_path))
    metric.process(None, [a, b])
    out = metric.compute_metrics(metric.results)
    # one group of both images: sum p*t = 0.9 + 0.6 + 0.4 = 1.9,
    # sum p = 1.7 + 0.4 = 2.1, sum t = 3 -> (3.8 + 1) / (5.1 + 1)
    assert out['soft_dice'] == pytest.approx(4.8 / 6.1)
    # thresholded: A perfect (TP 2, TN 2); B: FN 1, TN 3
    # LV IoU = 2 / 3, background IoU = 5 / 6; LV recall 2/3, bg recall 1
    assert out['LV_IoU'] == pytest.approx(2 / 3)
    assert out['mIoU'] == pytest.approx((2 / 3 + 5 / 6) / 2)
    assert out['mRecall'] == pytest.approx((2 / 3 + 1) / 2)
    assert out['LV_Dice'] == pytest.approx(4 / 5)
    assert out['LV_Dice_per_image'] == pytest.approx((1 + 0) / 2)
    summary = json.load(open(tmp_path / 'summary.json'))
    assert summary['soft_dice'] == pytest.approx(out['soft_dice'])
    rows = (tmp_path / 'per_image.csv').read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith('img_path,patient')


def test_soft_dice_is_averaged_over_groups_of_the_thesis_batch():
    perfect = _sample([[1.0, 0.0]], [[1, 0]])
    empty_pred = _sample([[0.0, 0.0]], [[1, 0]])
    metric = BinarySegMetric(group_size=1, smooth=1.0)
    metric.process(None, [perfect, empty_pred])
    out = metric.compute_metrics(metric.results)
    # per image: (2 + 1) / (2 + 1) = 1 and (0 + 1) / (0 + 1 + 1) = 0.5
    assert out['soft_dice'] == pytest.approx(0.75)
    pooled = BinarySegMetric(group_size=4)
    pooled.process(None, [perfect, empty_pred])
    # pooled: (2 * 1 + 1) / (1 + 2 + 1)
    assert pooled.compute_metrics(pooled.results)['soft_dice'] == \
        pytest.approx(0.75)
    three = BinarySegMetric(group_size=2)
    three.process(None, [perfect, empty_pred, perfect])
    # groups {perfect, empty}: 3/4, {perfect}: 1 -> mean 0.875
    assert three.compute_metrics(three.results)['soft_dice'] == \
        pytest.approx(0.875)


def test_ignored_pixels_are_left_out():
    s = _sample([[0.9, 0.9]], [[1, 255]])
    metric = BinarySegMetric()
    metric.process(None, [s])
    out = metric.compute_metrics(metric.results)
    assert out['LV_IoU'] == 1.0
    assert out['soft_dice'] == pytest.approx((1.8 + 1) / (0.9 + 1 + 1))


def test_hostile_inputs_are_refused_with_the_file_name():
    metric = BinarySegMetric()
    with pytest.raises(ValueError, match='case7.*BinarizeLabel'):
        metric.process(None, [_sample([[0.5]], [[2]], name='case7.nii.gz')])
    bad = _sample([[0.5, 0.5]], [[1, 0]], name='case8.nii.gz')
    bad['gt_sem_seg']['data'] = torch.zeros(1, 3, 3, dtype=torch.long)
    with pytest.raises(ValueError, match='case8.*ResetOriginalShape'):
        metric.process(None, [bad])
    two = _sample([[0.5]], [[1]], name='case9.nii.gz')
    two['seg_logits']['data'] = torch.zeros(2, 1, 1)
    with pytest.raises(ValueError, match='case9.*out_channels=1'):
        metric.process(None, [two])
    with pytest.raises(ValueError, match='no test images'):
        metric.compute_metrics([])
