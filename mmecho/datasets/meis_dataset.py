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
import math
import os.path as osp
import warnings
from collections import defaultdict
from typing import List

import numpy as np
from mmdet.datasets import CocoDataset
from mmengine.fileio import get_local_path
from pycocotools import mask as mask_utils

from mmecho.registry import DATASETS
from .drop_report import DropReport
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


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value) -> str:
    return 'null' if value is None else type(value).__name__


def _check_polygons(seg, path, ann_id):
    """Validate a COCO polygon list; return the polygons as float arrays."""
    if not seg:
        raise DatasetFormatError(
            path, f'annotation {ann_id}: expected polygons with at least '
            '3 (x, y) points, got an empty list',
            field='segmentation')
    polys = []
    for k, p in enumerate(seg):
        if not isinstance(p, list):
            raise DatasetFormatError(
                path, f'annotation {ann_id}: polygon {k} is {_kind(p)} '
                f'{p!r:.40}; expected a list of polygons, each a list of '
                'numbers [x1, y1, x2, y2, x3, y3, ...]',
                field='segmentation')
        if len(p) < 6 or len(p) % 2:
            raise DatasetFormatError(
                path, f'annotation {ann_id}: expected polygons with at least '
                f'3 (x, y) points, polygon {k} has {len(p)} values',
                field='segmentation')
        for j, v in enumerate(p):
            if not _is_number(v):
                raise DatasetFormatError(
                    path, f'annotation {ann_id}: polygon {k}, value {j} is '
                    f'{_kind(v)} {v!r:.40}; expected a number (pixels)',
                    field='segmentation')
            if not math.isfinite(v):
                raise DatasetFormatError(
                    path, f'annotation {ann_id}: polygon {k}, value {j} is '
                    f'{v!r}; expected a finite number (pixels)',
                    field='segmentation')
        polys.append(np.asarray(p, np.float64))
    return polys


def _polygon_area(polys) -> float:
    """Sum of the shoelace areas of the polygons (px^2); 0 when every
    polygon is degenerate (collinear or repeated points)."""
    total = 0.0
    for p in polys:
        x, y = p[0::2], p[1::2]
        total += 0.5 * abs(
            float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    return total


def _decode_rle(seg, height, width, path, ann_id):
    size = seg.get('size')
    if (not isinstance(size, list) or len(size) != 2
            or not all(_is_int(v) for v in size)):
        raise DatasetFormatError(
            path, f'annotation {ann_id}: RLE size is {size!r:.40}; '
            'expected [height, width]',
            field='segmentation')
    counts = seg['counts']
    if not (isinstance(counts, str) or
            (isinstance(counts, list) and all(_is_int(v) for v in counts))):
        raise DatasetFormatError(
            path, f'annotation {ann_id}: RLE counts is {_kind(counts)} '
            f'{counts!r:.40}; expected a string (compressed) or a list of '
            'integers',
            field='segmentation')
    if list(size) != [height, width]:
        raise DatasetFormatError(
            path, f'annotation {ann_id}: RLE size {size} differs '
            f'from the image size [{height}, {width}]',
            field='segmentation')
    try:
        rle = seg
        if isinstance(counts, list):
            rle = mask_utils.frPyObjects(seg, *size)
        return mask_utils.decode(rle)
    except Exception as e:  # pycocotools raises bare Exceptions
        raise DatasetFormatError(
            path, f'annotation {ann_id}: RLE counts could not be decoded '
            f'({e}); expected a valid COCO RLE',
            field='segmentation') from e


def _bbox_from_segmentation(seg, height, width, path, ann_id):
    """``[x, y, w, h]`` of a COCO polygon list or RLE, in pixels."""
    return _mask_geometry(seg, height, width, path, ann_id)[0]


def _mask_geometry(seg, height, width, path, ann_id):
    """``([x, y, w, h], area)`` of a COCO polygon list or RLE, in pixels.

    The area of polygons is their shoelace area (0 for collinear or repeated
    points), that of an RLE its pixel count.
    """
    if isinstance(seg, list):
        polys = _check_polygons(seg, path, ann_id)
        coords = np.concatenate(polys)
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
        return ([float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                _polygon_area(polys))
    if isinstance(seg, dict) and 'counts' in seg:
        m = _decode_rle(seg, height, width, path, ann_id)
        ys, xs = np.nonzero(m)
        if len(xs) == 0:
            return [0.0, 0.0, 0.0, 0.0], 0.0
        return ([
            float(xs.min()),
            float(ys.min()),
            float(xs.max() + 1 - xs.min()),
            float(ys.max() + 1 - ys.min())
        ], float(len(xs)))
    raise DatasetFormatError(
        path,
        f'annotation {ann_id}: expected a polygon list or an RLE dict, got '
        f'{_kind(seg)} {seg!r:.40}',
        field='segmentation')


@DATASETS.register_module()
class MEISDataset(CocoDataset):
    """The MEIS M-mode dataset (COCO format, four classes).

    Boxes *and areas* come from the masks (the stored ``bbox`` and ``area``
    are ignored). The loader drops an annotation when its polygons have zero
    area (collinear or repeated points), its RLE mask is empty, its box is
    under 1 px wide or high, it carries ``"ignore": true``, or its
    ``image_id`` is not among the images. Every drop is counted: one
    :class:`~mmecho.datasets.drop_report.DatasetDropWarning` per build gives
    the count per reason with a few annotation ids, and ``strict=True``
    raises :class:`DatasetFormatError` instead.

    An image that had annotations and lost all of them is not treated as a
    negative image silently: in training with
    ``filter_cfg=dict(filter_empty_gt=True)`` it is removed, otherwise (test
    mode, or no ``filter_empty_gt``) it is kept without objects
    (``image_type='none'``); either way it is counted in the same warning.
    Images that never had an annotation keep the COCO behaviour (kept for
    testing, removed by ``filter_empty_gt``) and are not reported.

    Malformed files raise :class:`DatasetFormatError` naming the file, the
    field and the image/annotation id: top level not an object, a missing
    section, non-integer or repeated ids, a category name used twice, an
    annotation without ``image_id``/``category_id``/``segmentation``, an
    unknown ``category_id``, polygon values that are not finite numbers, an
    undecodable RLE, non-positive image sizes. A build that ends with no
    image (empty file, everything filtered, or ``indices`` selecting
    nothing) raises too, naming the file, the split and the filters.

    Args:
        crowd_policy (str): ``'auto'`` (default): if every annotation of the
            file has ``iscrowd=1``, use them as instances; otherwise crowd
            annotations are ignored regions as in COCO. ``'coco'``: always
            COCO semantics. ``'instances'``: never ignore.
        strict (bool): Raise instead of warning when anything is dropped.
            Defaults to False.
        **kwargs: As for :class:`mmdet.datasets.CocoDataset`.
    """

    METAINFO = {
        'classes': ('IVS', 'LVPW', 'LA', 'AoR'),
        'palette': [(220, 20, 60), (0, 160, 255), (0, 200, 80), (250, 170, 30)]
    }

    def __init__(self,
                 *args,
                 crowd_policy: str = 'auto',
                 strict: bool = False,
                 **kwargs):
        if crowd_policy not in ('auto', 'coco', 'instances'):
            raise ValueError(f'crowd_policy must be auto/coco/instances, '
                             f'got {crowd_policy!r}')
        self.crowd_policy = crowd_policy
        self.strict = strict
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
        if not isinstance(raw, dict):
            raise DatasetFormatError(
                self.ann_file, 'expected a JSON object with "images", '
                '"annotations" and "categories" (COCO instance format), got '
                f'{_kind(raw)}')
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(raw.get(key), list):
                raise DatasetFormatError(
                    self.ann_file, 'missing or not a list (expected COCO '
                    'instance format)',
                    field=key)
        self._check_structure(raw)
        coco = self.COCOAPI()
        coco.dataset = raw
        coco.createIndex()
        coco.img_ann_map = coco.imgToAnns
        coco.cat_img_map = coco.catToImgs
        return coco

    def _check_structure(self, raw):
        """Types and uniqueness of the ids, before pycocotools indexes them
        (it would raise a bare KeyError, or silently keep one of two images
        sharing an id)."""
        path = self.ann_file

        def entry(section, k, item, what):
            if not isinstance(item, dict):
                raise DatasetFormatError(
                    path, f'entry {k} is {_kind(item)} {item!r:.60}; '
                    f'expected an object with {what}',
                    field=section)

        names = {}
        for k, img in enumerate(raw['images']):
            entry('images', k, img, 'id, file_name, height and width')
            iid = img.get('id')
            if not _is_int(iid):
                raise DatasetFormatError(
                    path, f'entry {k} ({img.get("file_name")!r}) has id '
                    f'{iid!r}; expected an integer',
                    field='images.id')
            if iid in names:
                raise DatasetFormatError(
                    path, f'image id {iid} is used twice ({names[iid]!r} '
                    f'and {img.get("file_name")!r}); expected unique ids',
                    field='images.id')
            names[iid] = img.get('file_name')
            for key in ('file_name', 'height', 'width'):
                if key not in img:
                    raise DatasetFormatError(
                        path, f'image {iid} has no {key!r}',
                        field=f'images.{key}')
            if not isinstance(img['file_name'], str) or not img['file_name']:
                raise DatasetFormatError(
                    path, f'image {iid}: file_name is '
                    f'{img["file_name"]!r:.40}; expected a file name',
                    field='images.file_name')
            for key in ('height', 'width'):
                v = img[key]
                if not _is_int(v) or v <= 0:
                    raise DatasetFormatError(
                        path, f'image {iid}: {key} is {v!r:.40}; expected a '
                        'positive integer (pixels)',
                        field=f'images.{key}')

        by_id, by_name = {}, {}
        for k, cat in enumerate(raw['categories']):
            entry('categories', k, cat, 'id and name')
            cid, name = cat.get('id'), cat.get('name')
            if not _is_int(cid):
                raise DatasetFormatError(
                    path, f'category {k} ({name!r}) has id {cid!r}; '
                    'expected an integer',
                    field='categories.id')
            if cid in by_id:
                raise DatasetFormatError(
                    path, f'category id {cid} is used twice ({by_id[cid]!r} '
                    f'and {name!r}); expected unique ids',
                    field='categories')
            if name in by_name:
                raise DatasetFormatError(
                    path, f'category name {name!r} is used by ids '
                    f'{by_name[name]} and {cid}; expected each name once',
                    field='categories')
            by_id[cid], by_name[name] = name, cid

        ann_ids = set()
        for k, a in enumerate(raw['annotations']):
            entry('annotations', k, a,
                  'id, image_id, category_id and segmentation')
            aid = a.get('id')
            if not _is_int(aid):
                raise DatasetFormatError(
                    path, f'entry {k} has id {aid!r}; expected an integer',
                    field='annotations.id')
            if aid in ann_ids:
                raise DatasetFormatError(
                    path, f'annotation id {aid} is not unique',
                    field='annotations.id')
            ann_ids.add(aid)
            for key in ('image_id', 'category_id'):
                if key not in a:
                    raise DatasetFormatError(
                        path, f'annotation {aid} has no {key}',
                        field=f'annotations.{key}')
                if not _is_int(a[key]):
                    raise DatasetFormatError(
                        path, f'annotation {aid}: {key} is {a[key]!r:.40}; '
                        'expected an integer',
                        field=f'annotations.{key}')
            if 'segmentation' not in a:
                raise DatasetFormatError(
                    path, f'annotation {aid} has no mask',
                    field='segmentation')

    def load_data_list(self) -> List[dict]:
        with get_local_path(
                self.ann_file, backend_args=self.backend_args) as local_path:
            self.coco = self._open_coco(local_path)
        self._drops = DropReport()
        self._emptied = set()
        self._n_in_file = len(self.coco.dataset['images'])
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
        img_ids = set(self.coco.get_img_ids())
        for a in anns:
            if a['category_id'] not in known:
                raise DatasetFormatError(
                    self.ann_file, f'annotation {a["id"]} has '
                    f'category_id {a["category_id"]}, not in the '
                    f'categories {sorted(known)}',
                    field='category_id')
            if a['image_id'] not in img_ids:
                self._drops.add('unknown image_id', f'annotation {a["id"]}')
        data_list = []
        for img_id in self.coco.get_img_ids():
            raw_img_info = dict(self.coco.load_imgs([img_id])[0])
            raw_img_info['img_id'] = img_id
            raw_anns = [
                dict(a) for a in self.coco.load_anns(
                    self.coco.get_ann_ids(img_ids=[img_id]))
            ]
            kept = [a for a in raw_anns if self._keep(a, raw_img_info)]
            info = self.parse_data_info(
                dict(raw_ann_info=kept, raw_img_info=raw_img_info))
            # safety net: nothing may vanish inside mmdet's parser either
            for _ in range(len(kept) - len(info['instances'])):
                self._drops.add('dropped by CocoDataset.parse_data_info',
                                f'image {img_id}')
            if raw_anns and not info['instances']:
                self._emptied.add(img_id)
            names = [
                classes[i['bbox_label']] for i in info['instances']
            ]
            info['image_type'] = image_type_of(names)
            data_list.append(info)
        del self.coco
        return data_list

    def _keep(self, a, img) -> bool:
        """Validate one annotation, fill ``bbox``/``area`` from its mask;
        False (and counted) when it is dropped."""
        a['bbox'], a['area'] = _mask_geometry(a['segmentation'],
                                              img['height'], img['width'],
                                              self.ann_file, a['id'])
        if a.get('ignore', False):
            reason = "'ignore' flag set"
        elif a['area'] <= 1e-6:
            reason = ('zero-area polygon' if isinstance(
                a['segmentation'], list) else 'empty mask')
        elif a['bbox'][2] < 1 or a['bbox'][3] < 1:
            reason = 'box under 1 px'
        else:
            if self._crowd_as_instance:
                a['iscrowd'] = 0
            return True
        self._drops.add(reason, f'annotation {a["id"]}')
        return False

    def filter_data(self) -> List[dict]:
        """mmdet's filtering (``filter_empty_gt``, ``min_size``; none in
        test mode), plus: images emptied by dropped annotations are counted,
        the drop report is emitted (or raised, ``strict``), and an empty
        result raises."""
        cfg = {} if self.test_mode else (self.filter_cfg or {})
        filter_empty_gt = cfg.get('filter_empty_gt', False)
        min_size = cfg.get('min_size', 0)
        drops = getattr(self, '_drops', DropReport())
        emptied = getattr(self, '_emptied', set())
        valid = []
        for info in self.data_list:
            detail = (f'image {info["img_id"]} '
                      f'({osp.basename(info["img_path"])})')
            if filter_empty_gt and not info['instances']:
                if info['img_id'] in emptied:
                    drops.add(
                        'image with every annotation dropped, removed '
                        'from training', detail)
                continue
            if info['img_id'] in emptied:
                drops.add(
                    'image with every annotation dropped, kept without '
                    'objects', detail)
            if min(info['width'], info['height']) >= min_size:
                valid.append(info)
        drops.finish(type(self).__name__, self.ann_file, strict=self.strict)
        if not valid:
            self._raise_empty(0)
        return valid

    def _get_unserialized_subset(self, indices) -> list:
        subset = super()._get_unserialized_subset(indices)
        if not subset:
            self._raise_empty(len(self.data_list))
        return subset

    def _raise_empty(self, n_left: int):
        filters = f'filter_cfg={self.filter_cfg}'
        if self.test_mode and self.filter_cfg:
            filters += ' (not applied: test_mode)'
        raise DatasetFormatError(
            self.ann_file, 'no images left to use (data_root '
            f'{self.data_root!r}, split {osp.basename(self.ann_file)!r}, '
            f'test_mode={self.test_mode}; {filters}, '
            f'indices={self._indices!r}; '
            f'{getattr(self, "_n_in_file", "?")} image(s) in the file, '
            f'{n_left} after filtering)')
