import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmecho.datasets import DatasetFormatError, MEISDataset


def build(root, ann='Allmode_train.json', **kwargs):
    return MEISDataset(
        data_root=root,
        ann_file=ann,
        data_prefix=dict(img='raw_image/'),
        pipeline=[],
        **kwargs)


def copy_with(root, tmp_path, edit, ann='Allmode_train.json'):
    dst = tmp_path / 'meis'
    shutil.copytree(root, dst)
    data = json.load(open(dst / ann))
    edit(data)
    (dst / ann).write_text(json.dumps(data))
    return str(dst)


def test_loads_phantom_and_types(meis_root):
    test = build(meis_root, 'Allmode_test.json', test_mode=True)
    train_all = build(meis_root, test_mode=True)
    train = build(meis_root, filter_cfg=dict(filter_empty_gt=True))
    # the empty image is kept for evaluation, skipped for training
    assert 'none' in [d['image_type'] for d in train_all]
    assert len(train) == len(train_all) - 1
    for d in list(train) + list(test):
        names = {
            train.metainfo['classes'][i['bbox_label']]
            for i in d['instances']
        }
        assert d['image_type'] == {
            frozenset({'IVS', 'LVPW'}): 'LV',
            frozenset({'LA', 'AoR'}): 'AV'
        }[frozenset(names)]


def test_boxes_come_from_masks(meis_root, tmp_path):

    def corrupt(data):
        for a in data['annotations']:
            x, y, w, h = a['bbox']
            a['bbox'] = [x, y, x + w, y + h]  # corner format, other JSON

    ref = build(meis_root)
    alt = build(copy_with(meis_root, tmp_path, corrupt))
    for d0, d1 in zip(ref, alt):
        for i0, i1 in zip(d0['instances'], d1['instances']):
            assert i0['bbox'] == i1['bbox']
            # and equals the mask's extent
            m = mask_utils.decode(
                mask_utils.merge(
                    mask_utils.frPyObjects(i0['mask'], d0['height'],
                                           d0['width'])))
            ys, xs = np.nonzero(m)
            assert abs(i0['bbox'][0] - xs.min()) <= 1
            assert abs(i0['bbox'][3] - (ys.max() + 1)) <= 1


def test_categories_mapped_by_name(meis_root, tmp_path):

    def shuffle(data):
        remap = {1: 40, 2: 30, 3: 20, 4: 10}
        data['categories'] = [
            dict(c, id=remap[c['id']]) for c in reversed(data['categories'])
        ]
        for a in data['annotations']:
            a['category_id'] = remap[a['category_id']]

    ref = build(meis_root)
    alt = build(copy_with(meis_root, tmp_path, shuffle))
    for d0, d1 in zip(ref, alt):
        assert [i['bbox_label'] for i in d0['instances']] == \
            [i['bbox_label'] for i in d1['instances']]


def test_all_crowd_file_is_used_as_instances(meis_root, tmp_path):

    def crowd(data):
        for a in data['annotations']:
            a['iscrowd'] = 1

    with pytest.warns(UserWarning, match='iscrowd=1'):
        ds = build(copy_with(meis_root, tmp_path, crowd))
    assert all(i['ignore_flag'] == 0 for d in ds for i in d['instances'])


@pytest.mark.parametrize('edit, match', [
    (lambda d: d['categories'].append(dict(id=9, name='RV')),
     "unknown category 'RV'"),
    (lambda d: d['annotations'][0].update(category_id=77), 'category_id 77'),
    (lambda d: d['annotations'][0].update(
        segmentation=[[5000, 5, 5010, 5, 5010, 20]]), 'outside the image'),
    (lambda d: d.pop('annotations'), "field 'annotations'"),
])
def test_bad_annotations(meis_root, tmp_path, edit, match):
    root = copy_with(meis_root, tmp_path, edit)
    with pytest.raises(DatasetFormatError, match=match) as e:
        build(root)
    assert 'Allmode_train.json' in str(e.value)


def test_corrupt_and_missing_json(meis_root, tmp_path):
    with pytest.raises(DatasetFormatError, match='not found'):
        build(str(tmp_path))
    dst = tmp_path / 'm'
    shutil.copytree(meis_root, dst)
    (dst / 'Allmode_train.json').write_text('{"images": [')
    with pytest.raises(DatasetFormatError, match='not valid JSON'):
        build(str(dst))


def test_image_size_mismatch_is_reported(meis_root, tmp_path):
    from mmcv.transforms import LoadImageFromFile

    from mmecho.datasets import CheckImageShape
    dst = tmp_path / 'm'
    shutil.copytree(meis_root, dst)
    ds = build(str(dst))
    info = ds[0]
    img = cv2.imread(info['img_path'])
    cv2.imwrite(info['img_path'], img[:500])
    results = LoadImageFromFile()(dict(info))
    with pytest.raises(
            DatasetFormatError, match=osp.basename(info['img_path'])):
        CheckImageShape()(results)
