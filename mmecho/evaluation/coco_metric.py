# Copyright (c) mmecho contributors. All rights reserved.
"""COCO bbox/segm mAP for mmecho datasets, plus the papers' "Avg-mAP"."""
from typing import Dict, List

from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger

from mmecho.registry import METRICS


class NameOrderedCOCO(COCO):
    """COCO API whose ``get_cat_ids(cat_names=...)`` follows the order of
    ``cat_names`` (pycocotools follows the file's order, which silently
    mislabels predictions when a file lists its categories in another order
    than the dataset's ``classes``)."""

    def get_cat_ids(self, cat_names=[], sup_names=[], cat_ids=[]):
        ids = super().get_cat_ids(cat_names, sup_names, cat_ids)
        if not cat_names:
            return ids
        order = {name: i for i, name in enumerate(cat_names)}
        return sorted(ids, key=lambda i: order[self.cats[i]['name']])


@METRICS.register_module()
class EchoCocoMetric(CocoMetric):
    """mmdet's :class:`CocoMetric` (pycocotools) with categories matched by
    name, and ``avg_mAP`` = mean of ``bbox_mAP`` and ``segm_mAP`` (the
    "Avg-mAP" reported by RAMEM and the label-assignment study) when both
    are evaluated.

    A model that detects nothing in the whole split scores 0 (mmdet returns
    no metric at all then, which breaks best-checkpoint selection and hides
    the result)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self._coco_api is not None:
            self._coco_api.__class__ = NameOrderedCOCO

    def compute_metrics(self, results: List) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        for metric in self.metrics:
            if metric in ('bbox', 'segm') and f'{metric}_mAP' not in metrics:
                MMLogger.get_current_instance().warning(
                    f'no {metric} detections on the whole split: '
                    f'{metric} mAP reported as 0')
                for item in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m',
                             'mAP_l'):
                    metrics[f'{metric}_{item}'] = 0.0
        if 'bbox_mAP' in metrics and 'segm_mAP' in metrics:
            metrics['avg_mAP'] = round(
                (metrics['bbox_mAP'] + metrics['segm_mAP']) / 2, 4)
        return metrics
