# Copyright (c) mmecho contributors. All rights reserved.
"""The CAMUS grid thesis's metrics of its binary LV task (paper 002, Tables
1-10: Accuracy, mIoU, Recall)."""
import csv
import io
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmecho.registry import METRICS
from mmecho.utils import atomic_write_text


def _soft_dice(sum_pt: float, sum_p: float, sum_t: float,
               smooth: float) -> float:
    return (2.0 * sum_pt + smooth) / (sum_p + sum_t + smooth)


@METRICS.register_module()
class BinarySegMetric(BaseMetric):
    """Metrics of a one-channel (sigmoid) segmentation, as the thesis
    reports them.

    * ``soft_dice`` -- the thesis's "Accuracy": its appendix defines
      accuracy as ``1 - dice_loss(sigmoid(pred), y, smooth=1)``, a Dice of
      the *probabilities* (no threshold) pooled over a batch, averaged over
      the batches. Here over consecutive groups of ``group_size`` test
      images (the thesis's batch, 4), in test order.
    * ``mIoU``, ``mRecall`` -- the mean over the two classes (background and
      LV) of IoU and recall of the thresholded prediction, pixels pooled
      over the whole test set (mmseg's ``IoUMetric`` convention). The thesis
      prints no code for these; with background included they exceed the
      Dice, as in 196 of its 198 table cells.
    * ``LV_IoU``, ``LV_Dice``, ``LV_Recall`` -- the same of the LV class
      alone; ``LV_Dice_per_image`` the mean of per-image hard Dice (an image
      with neither reference nor prediction scores 1).

    Reads ``seg_logits`` (sigmoid probabilities, ``(1, H, W)``, as mmseg's
    segmentors return them for ``out_channels=1``), ``pred_sem_seg`` and
    ``gt_sem_seg`` ``(1, H, W)`` of each data sample, which must have the
    same shape (compare at the network's resolution with
    ``ResetOriginalShape`` after the test resize, as the thesis did).

    Args:
        group_size (int): Images per soft-Dice group (thesis batch: 4).
        smooth (float): Dice smoothing (thesis: 1).
        ignore_index (int): Reference label excluded from every sum.
        output_dir (str, optional): Where to write ``summary.json`` (the
            metrics) and ``per_image.csv`` (image, patient, soft and hard
            Dice, IoU), atomically.
    """

    default_prefix = 'thesis'

    def __init__(self,
                 group_size: int = 4,
                 smooth: float = 1.0,
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if group_size < 1:
            raise ValueError(f'group_size must be >= 1, got {group_size}')
        self.group_size = group_size
        self.smooth = smooth
        self.ignore_index = ignore_index
        self.output_dir = output_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            prob = ds['seg_logits']['data']
            pred = ds['pred_sem_seg']['data']
            gt = ds['gt_sem_seg']['data'].to(pred.device)
            name = ds.get('img_path', '?')
            if prob.shape[0] != 1:
                raise ValueError(
                    f'{name}: BinarySegMetric needs one sigmoid channel, got '
                    f'seg_logits of shape {tuple(prob.shape)} (set the '
                    'head\'s out_channels=1)')
            if prob.shape != gt.shape:
                raise ValueError(
                    f'{name}: prediction {tuple(prob.shape)} and reference '
                    f'{tuple(gt.shape)} differ in shape; add '
                    'ResetOriginalShape after the test resize')
            valid = gt != self.ignore_index
            t = (gt == 1) & valid
            p = (pred > 0) & valid
            prob = torch.where(valid, prob.float(), torch.zeros_like(prob))
            labels = set(torch.unique(gt[valid]).tolist())
            if not labels <= {0, 1}:
                raise ValueError(
                    f'{name}: reference labels {sorted(labels)}; expected '
                    '0/1 (binarise the label map: BinarizeLabel)')
            tp = int((p & t).sum())
            fp = int((p & ~t & valid).sum())
            fn = int((~p & t).sum())
            tn = int((~p & ~t & valid).sum())
            self.results.append(
                dict(
                    img_path=name,
                    patient=ds.get('patient', ''),
                    sum_pt=float((prob * t).sum()),
                    sum_p=float(prob.sum()),
                    sum_t=float(t.sum()),
                    tp=tp,
                    fp=fp,
                    fn=fn,
                    tn=tn))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('BinarySegMetric: no test images were scored')
        groups = [
            results[i:i + self.group_size]
            for i in range(0, len(results), self.group_size)
        ]
        soft = [
            _soft_dice(
                sum(r['sum_pt'] for r in g), sum(r['sum_p'] for r in g),
                sum(r['sum_t'] for r in g), self.smooth) for g in groups
        ]
        tp, fp, fn, tn = (float(sum(r[k] for r in results))
                          for k in ('tp', 'fp', 'fn', 'tn'))

        def ratio(a, b):
            return a / b if b > 0 else float('nan')

        iou_lv = ratio(tp, tp + fp + fn)
        iou_bg = ratio(tn, tn + fn + fp)
        rec_lv = ratio(tp, tp + fn)
        rec_bg = ratio(tn, tn + fp)
        per_image = [
            1.0 if r['tp'] + r['fp'] + r['fn'] == 0 else 2 * r['tp'] /
            (2 * r['tp'] + r['fp'] + r['fn']) for r in results
        ]
        metrics = dict(
            soft_dice=float(np.mean(soft)),
            mIoU=float(np.nanmean([iou_bg, iou_lv])),
            mRecall=float(np.nanmean([rec_bg, rec_lv])),
            LV_IoU=iou_lv,
            LV_Dice=ratio(2 * tp, 2 * tp + fp + fn),
            LV_Recall=rec_lv,
            LV_Dice_per_image=float(np.mean(per_image)),
            num_images=len(results))
        if self.output_dir:
            self._write(results, metrics)
        MMLogger.get_current_instance().info(
            'thesis metrics: ' + ', '.join(f'{k} {v:.4f}'
                                           for k, v in metrics.items()))
        return metrics

    def _write(self, results: List[dict], metrics: Dict[str, float]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(['img_path', 'patient', 'soft_dice', 'dice', 'iou'])
        for r in results:
            inter, union = r['tp'], r['tp'] + r['fp'] + r['fn']
            soft = _soft_dice(r['sum_pt'], r['sum_p'], r['sum_t'],
                              self.smooth)
            w.writerow([
                r['img_path'], r['patient'], f'{soft:.6f}',
                f'{(2 * inter / (union + inter) if union else 1.0):.6f}',
                f'{(inter / union if union else 1.0):.6f}'
            ])
        atomic_write_text(
            osp.join(self.output_dir, 'per_image.csv'), buf.getvalue())
        atomic_write_text(
            osp.join(self.output_dir, 'summary.json'),
            json.dumps(metrics, indent=1))
