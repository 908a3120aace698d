# Copyright (c) mmecho contributors. All rights reserved.
"""MEIS: M-mode echocardiography instance segmentation (RAMEM, JBHI 2024).

Real layout (download: see data/README.md)::

    data/meis/raw_image/*.jpg
    data/meis/Allmode_train.json
    data/meis/Allmode_test.json

Two versions of the annotation JSON circulate; they disagree on the box
format (``[x, y, w, h]`` vs corners) and on ``iscrowd``. This loader therefore
(1) maps categories by *name* to ``('IVS', 'LVPW', 'LA', 'AoR')`` whatever
their ids and order, (2) derives every box from its mask (polygon or RLE),
ignoring the stored ``bbox``, and (3) with ``crowd_policy='auto'`` treats the
annotations as instances when *every* annotation of the file is marked
``iscrowd=1`` (the other JSON version), warning once. Each image carries its
type in ``image_type``: ``'LV'`` (IVS/LVPW), ``'AV'`` (LA/AoR), ``'mixed'``
or ``'none'`` (no annotation). Images without annotations stay in the test
set and are removed from training by ``filter_cfg=dict(filter_empty_gt=True)``;
a training image whose objects are all cropped away by augmentation is
replaced by another (mmengine's ``BaseDataset`` retries when the pipeline
returns ``None``), so no batch size is special.
"""
import json
import warnings
from collections import defaultdict
from typing import List

import numpy as np
from mmdet.datasets import CocoDataset
from mmengine.fileio import get_local_path
from pycocotools import mask as mask_utils

from mmecho.registry import DATASETS
from .io import DatasetFormatError

LV_CLASSES = ('IVS', 'LVPW')
AV_CLASSES = ('LA', 'AoR')


def image_type_of(class_names) -> str:
    """'LV', 'AV', 'mixed' or 'none' from the class names of an image."""
    names = set(class_names)
    if not names:
        return 'none'
    if names <= set(LV_CLASSES):
        return 'LV'
    if names <= set(AV_CLASSES):
        return 'AV'
    return 'mixed'


def _bbox_from_segmentation(seg, height, width, path, ann_id):
    """``[x, y, w, h]`` of a COCO polygon list or RLE, in pixels."""
    if isinstance(seg, list):
        if not seg or not all(len(p) >= 6 and len(p) % 2 == 0 for p in seg):
            raise DatasetFormatError(
                path, f'annotation {ann_id}: expected polygons with at least '
                '3 (x, y) points',
                field='segmentation')
        coords = np.concatenate([np.asarray(p, np.float64) for p in seg])
        xs, ys = coords[0::2], coords[1::2]
        if (xs.min() < -1 or ys.min() < -1 or xs.max() > width + 1
                or ys.max() > height + 1):
            raise DatasetFormatError(
                path, f'annotation {ann_id}: polygon spans x '
                f'{xs.min():.1f}..{xs.max():.1f}, y {ys.min():.1f}..'
                f'{ys.max():.1f}, outside the image ({width}x{height})',
                field='segmentation')
        x0, y0 = max(xs.min(), 0), max(ys.min(), 0)
        x1, y1 = min(xs.max(), width), min(ys.max(), height)
        return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
    if isinstance(seg, dict) and 'counts' in seg:
        rle = seg
        if isinstance(seg['counts'], list):
            rle = mask_utils.frPyObjects(seg, *seg['size'])
        if list(rle['size']) != [height, width]:
            raise DatasetFormatError(
                path, f'annotation {ann_id}: RLE size {rle["size"]} differs '
                f'from the image size [{height}, {width}]',
                field='segmentation')
        m = mask_utils.decode(rle)
        ys, xs = np.nonzero(m)
        if len(xs) == 0:
            return [0.0, 0.0, 0.0, 0.0]
        return [
            float(xs.min()),
            float(ys.min()),
            float(xs.max() + 1 - xs.min()),
            float(ys.max() + 1 - ys.min())
        ]
    raise DatasetFormatError(
        path,
        f'annotation {ann_id}: expected a polygon list or an RLE dict',
        field='segmentation')


@DATASETS.register_module()
class MEISDataset(CocoDataset):
    """The MEIS M-mode dataset (COCO format, four classes).

    Args:
        crowd_policy (str): ``'auto'`` (default): if every annotation of the
            file has ``iscrowd=1``, use them as instances; otherwise crowd
            annotations are ignored regions as in COCO. ``'coco'``: always
            COCO semantics. ``'instances'``: never ignore.
        **kwargs: As for :class:`mmdet.datasets.CocoDataset`.
    """

    METAINFO = {
        'classes': ('IVS', 'LVPW', 'LA', 'AoR'),
        'palette': [(220, 20, 60), (0, 160, 255), (0, 200, 80), (250, 170, 30)]
    }

    def __init__(self, *args, crowd_policy: str = 'auto', **kwargs):
        if crowd_policy not in ('auto', 'coco', 'instances'):
            raise ValueError(f'crowd_policy must be auto/coco/instances, '
                             f'got {crowd_policy!r}')
        self.crowd_policy = crowd_policy
        super().__init__(*args, **kwargs)

    def _open_coco(self, local_path):
        try:
            with open(local_path, 'rb') as f:
                raw = json.load(f)
        except FileNotFoundError:
            raise DatasetFormatError(
                self.ann_file, 'annotation file not found (expected '
                'Allmode_train.json / Allmode_test.json)')
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DatasetFormatError(self.ann_file, f'not valid JSON ({e})')
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(raw.get(key), list):
                raise DatasetFormatError(
                    self.ann_file, 'missing or not a list (expected COCO '
                    'instance format)',
                    field=key)
        coco = self.COCOAPI()
        coco.dataset = raw
        coco.createIndex()
        coco.img_ann_map = coco.imgToAnns
        coco.cat_img_map = coco.catToImgs
        return coco

    def load_data_list(self) -> List[dict]:
        with get_local_path(
                self.ann_file, backend_args=self.backend_args) as local_path:
            self.coco = self._open_coco(local_path)
        classes = self.metainfo['classes']
        name_to_id = {}
        for cat in self.coco.dataset['categories']:
            name = cat.get('name')
            if name not in classes:
                raise DatasetFormatError(
                    self.ann_file, f'unknown category {name!r} (id '
                    f'{cat.get("id")}); expected one of {classes}',
                    field='categories')
            name_to_id[name] = cat['id']
        # class order from the metainfo, ids from the file (by name)
        self.cat_ids = [name_to_id[n] for n in classes if n in name_to_id]
        self.cat2label = {
            name_to_id[n]: i
            for i, n in enumerate(classes) if n in name_to_id
        }
        self.cat_img_map = defaultdict(list)
        for k, v in self.coco.cat_img_map.items():
            self.cat_img_map[k] = list(v)
        anns = self.coco.dataset['annotations']
        self._crowd_as_instance = self.crowd_policy == 'instances' or (
            self.crowd_policy == 'auto' and anns
            and all(a.get('iscrowd', 0) == 1 for a in anns))
        if self._crowd_as_instance and self.crowd_policy == 'auto':
            warnings.warn(f'{self.ann_file}: every annotation has iscrowd=1; '
                          'using them as instances (crowd_policy="auto").')
        known = set(self.cat2label)
        for a in anns:
            if a.get('category_id') not in known:
                raise DatasetFormatError(
                    self.ann_file, f'annotation {a.get("id")} has '
                    f'category_id {a.get("category_id")}, not in the '
                    f'categories {sorted(known)}',
                    field='category_id')
        data_list = []
        ann_ids_seen = set()
        for img_id in self.coco.get_img_ids():
            raw_img_info = dict(self.coco.load_imgs([img_id])[0])
            raw_img_info['img_id'] = img_id
            for key in ('file_name', 'height', 'width'):
                if key not in raw_img_info:
                    raise DatasetFormatError(
                        self.ann_file,
                        f'image {img_id} has no {key!r}',
                        field=f'images.{key}')
            raw_anns = [
                dict(a) for a in self.coco.load_anns(
                    self.coco.get_ann_ids(img_ids=[img_id]))
            ]
            for a in raw_anns:
                if a['id'] in ann_ids_seen:
                    raise DatasetFormatError(
                        self.ann_file, f'annotation id {a["id"]} is not '
                        'unique',
                        field='annotations.id')
                ann_ids_seen.add(a['id'])
                if 'segmentation' not in a:
                    raise DatasetFormatError(
                        self.ann_file,
                        f'annotation {a["id"]} has no mask',
                        field='segmentation')
                a['bbox'] = _bbox_from_segmentation(a['segmentation'],
                                                    raw_img_info['height'],
                                                    raw_img_info['width'],
                                                    self.ann_file, a['id'])
                if self._crowd_as_instance:
                    a['iscrowd'] = 0
            info = self.parse_data_info(
                dict(raw_ann_info=raw_anns, raw_img_info=raw_img_info))
            names = [
                classes[self.cat2label[a['category_id']]] for a in raw_anns
            ]
            info['image_type'] = image_type_of(names)
            data_list.append(info)
        del self.coco
        return data_list
