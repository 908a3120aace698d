# Copyright (c) mmecho contributors. All rights reserved.
"""COCO bbox/segm mAP for mmecho datasets, plus the papers' "Avg-mAP"."""
import os.path as osp
from typing import Dict, List, Sequence

from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger

from mmecho.errors import DatasetFormatError
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
    the result).

    With an ``ann_file``, every predicted image must be the image of that
    file with its id: same file name and size. An evaluator left on
    another dataset's annotation file (whose ids happen to match) raises a
    :class:`DatasetFormatError` instead of scoring one dataset's images
    against the other's annotations."""

    def __init__(self, *args, ann_file=None, **kwargs) -> None:
        super().__init__(*args, ann_file=ann_file, **kwargs)
        self.ann_file = ann_file
        if self._coco_api is not None:
            self._coco_api.__class__ = NameOrderedCOCO

    def _check_image(self, sample: dict) -> None:
        img_id = sample.get('img_id')
        imgs = self._coco_api.imgs
        info = imgs.get(img_id)
        path = sample.get('img_path') or ''
        shape = tuple(sample.get('ori_shape') or ())
        problem = None
        if info is None:
            problem = f'has no image with id {img_id}'
        elif path and osp.basename(str(info.get('file_name', ''))) != \
                osp.basename(path):
            problem = (f'gives image id {img_id} to '
                       f'{info.get("file_name")!r}')
        elif shape and (info.get('height'), info.get('width')) != shape[:2]:
            problem = (f'gives image id {img_id} the size '
                       f'{info.get("height")}x{info.get("width")} (HxW)')
        if problem:
            raise DatasetFormatError(
                self.ann_file,
                f'the evaluator\'s annotation file {problem}, but the dataset '
                f'gives {path!r} ({"x".join(map(str, shape[:2]))}) with that '
                'id: the evaluator and the dataset must read the same '
                'annotation file (set both, e.g. with --data-root)',
                field='images')

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        if self._coco_api is not None:
            for sample in data_samples:
                self._check_image(sample)
        super().process(data_batch, data_samples)

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
