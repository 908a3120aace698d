"""Hostile MEIS annotation files (issue 15, points 6 and 7).

Each test corrupts the JSON of a small phantom and checks that the loader
either counts what it drops (one warning per build, ``strict=True`` raises)
or raises a :class:`DatasetFormatError` naming the file, the field and the
annotation/image id.

Phantom (``make_meis_phantom(num=4, seed=0)``), ``Allmode_train.json``:
images 1, 2, 4 with annotations (1, 2) on image 1, (3, 4) on image 2 and
(7, 8) on image 4; categories IVS=1, LVPW=2, LA=3, AoR=4.
"""
import json
import re
import shutil
import warnings

import pytest

from mmecho.datasets import DatasetFormatError, MEISDataset
from mmecho.datasets.drop_report import DatasetDropWarning

ANN = 'Allmode_train.json'
COLLINEAR = [[100.0, 400.0, 200.0, 450.0, 300.0, 500.0, 150.0, 425.0]]
SAME_POINT = [[100.0, 400.0, 100.0, 400.0, 100.0, 400.0]]
THIN = [[100.0, 400.0, 100.5, 450.0, 100.2, 500.0]]  # 0.5 px wide


@pytest.fixture(scope='module')
def phantom(tmp_path_factory):
    from mmecho.phantoms import make_meis_phantom
    root = tmp_path_factory.mktemp('meis_hostile')
    make_meis_phantom(str(root), num=4, seed=0)
    return root


def corrupt(phantom, tmp_path, edit=None, raw=None):
    dst = tmp_path / 'meis'
    shutil.copytree(phantom, dst)
    if raw is not None:
        (dst / ANN).write_text(raw)
    else:
        data = json.loads((dst / ANN).read_text())
        out = edit(data)
        (dst / ANN).write_text(json.dumps(data if out is None else out))
    return str(dst)


def build(root, **kwargs):
    return MEISDataset(
        data_root=root,
        ann_file=ANN,
        data_prefix=dict(img='raw_image/'),
        pipeline=[],
        **kwargs)


def ann(data, ann_id):
    return next(a for a in data['annotations'] if a['id'] == ann_id)


def build_warns(root, **kwargs):
    """Build; return the dataset and the drop warnings' texts."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter('always')
        ds = build(root, **kwargs)
    msgs = [
        str(w.message) for w in rec
        if issubclass(w.category, DatasetDropWarning)
    ]
    return ds, msgs


def n_instances(ds):
    return sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))


# ---------------------------------------------------------------- drops
def _set_seg(ann_id, seg):

    def edit(d):
        ann(d, ann_id)['segmentation'] = seg

    return edit


def _unknown_image(d):
    ann(d, 3)['image_id'] = 999


def _ignored(d):
    ann(d, 3)['ignore'] = True


def _empty_rle(d):
    ann(d, 3)['segmentation'] = {'counts': [768 * 1024], 'size': [768, 1024]}


def _zero_stored_area(d):
    # a valid polygon whose stored 'area' is 0: the area comes from the mask
    ann(d, 3)['area'] = 0


DROPS = {
    # name: (edit, reason in the warning, annotation id)
    'collinear_polygon': (_set_seg(1, COLLINEAR), 'zero-area polygon', 1),
    'zero_area_polygon': (_set_seg(1, SAME_POINT), 'zero-area polygon', 1),
    'box_under_1px': (_set_seg(1, THIN), 'box under 1 px', 1),
    'unknown_image_id': (_unknown_image, 'unknown image_id', 3),
    'ignore_flag': (_ignored, "'ignore' flag", 3),
    'empty_rle_mask': (_empty_rle, 'empty mask', 3),
}


@pytest.mark.parametrize('fault', sorted(DROPS))
def test_drop_is_counted_once_and_strict_raises(phantom, tmp_path, fault):
    edit, reason, ann_id = DROPS[fault]
    root = corrupt(phantom, tmp_path, edit)
    ds, msgs = build_warns(root, test_mode=True)
    assert len(msgs) == 1, msgs
    msg = msgs[0]
    assert ANN in msg
    assert f'1 x {reason}' in msg
    assert re.search(rf'annotation {ann_id}\b', msg)
    assert n_instances(ds) == 5  # 6 in the file, one dropped
    with pytest.raises(DatasetFormatError, match=re.escape(reason)) as e:
        build(root, test_mode=True, strict=True)
    assert ANN in str(e.value) and f'annotation {ann_id}' in str(e.value)


def test_stored_area_is_not_a_reason_to_drop(phantom, tmp_path):
    root = corrupt(phantom, tmp_path, _zero_stored_area)
    ds, msgs = build_warns(root, test_mode=True)
    assert msgs == []
    assert n_instances(ds) == 6


def test_several_drops_one_warning_with_counts(phantom, tmp_path):

    def edit(d):
        ann(d, 1)['segmentation'] = COLLINEAR
        ann(d, 7)['segmentation'] = SAME_POINT
        ann(d, 3)['image_id'] = 999

    ds, msgs = build_warns(corrupt(phantom, tmp_path, edit), test_mode=True)
    assert len(msgs) == 1, msgs
    assert '2 x zero-area polygon (annotation 1, annotation 7)' in msgs[0]
    assert '1 x unknown image_id (annotation 3)' in msgs[0]
    assert n_instances(ds) == 3


def _empty_image_1(d):
    ann(d, 1)['segmentation'] = COLLINEAR
    ann(d, 2)['segmentation'] = SAME_POINT


def test_emptied_image_removed_from_training(phantom, tmp_path):
    root = corrupt(phantom, tmp_path, _empty_image_1)
    ds, msgs = build_warns(root, filter_cfg=dict(filter_empty_gt=True))
    assert len(msgs) == 1, msgs
    assert '2 x zero-area polygon' in msgs[0]
    assert re.search(r'1 x image with every annotation dropped, removed '
                     r'from training \(image 1\b', msgs[0])
    assert len(ds) == 2
    assert 1 not in [ds.get_data_info(i)['img_id'] for i in range(len(ds))]
    with pytest.raises(DatasetFormatError, match='image 1'):
        build(root, filter_cfg=dict(filter_empty_gt=True), strict=True)


def test_emptied_image_kept_but_reported_in_test(phantom, tmp_path):
    root = corrupt(phantom, tmp_path, _empty_image_1)
    ds, msgs = build_warns(root, test_mode=True)
    assert len(msgs) == 1, msgs
    assert re.search(r'1 x image with every annotation dropped, kept '
                     r'without objects \(image 1\b', msgs[0])
    assert len(ds) == 3
    info = [ds.get_data_info(i) for i in range(3)]
    assert [d['image_type'] for d in info if d['img_id'] == 1] == ['none']


# ------------------------------------------------------- empty datasets
def _no_images(d):
    d['images'] = []
    d['annotations'] = []


def _all_degenerate(d):
    for a in d['annotations']:
        a['segmentation'] = COLLINEAR


@pytest.mark.parametrize('edit, kwargs, expect', [
    (_no_images, dict(test_mode=True), '0 image(s) in the file'),
    (_no_images, dict(filter_cfg=dict(filter_empty_gt=True)),
     'filter_empty_gt'),
    (_all_degenerate, dict(filter_cfg=dict(filter_empty_gt=True)),
     'filter_empty_gt'),
    (None, dict(test_mode=True, indices=0), 'indices=0'),
],
                         ids=['no_images', 'no_images_train', 'all_dropped',
                              'indices_select_nothing'])
def test_empty_dataset_is_named(phantom, tmp_path, edit, kwargs, expect):
    root = corrupt(phantom, tmp_path, edit or (lambda d: None))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DatasetDropWarning)
        with pytest.raises(DatasetFormatError) as e:
            build(root, **kwargs)
    msg = str(e.value)
    assert ANN in msg and 'no images' in msg
    assert f"split '{ANN}'" in msg
    assert expect in msg


# --------------------------------------------- malformed structure/values
def _dup_category_name(d):
    d['categories'].append(dict(id=5, name='IVS', supercategory='heart'))


def _dup_category_id(d):
    d['categories'][1]['id'] = 1


def _dup_image_id(d):
    d['images'][1]['id'] = 1


def _set(section, idx, key, value):

    def edit(d):
        if section == 'annotations':
            ann(d, idx)[key] = value
        else:
            d[section][idx][key] = value

    return edit


def _ann_replaced(ann_id, value):

    def edit(d):
        i = [a['id'] for a in d['annotations']].index(ann_id)
        d['annotations'][i] = value

    return edit


def _pop(ann_id, key):

    def edit(d):
        ann(d, ann_id).pop(key)

    return edit


def _coord(ann_id, value):

    def edit(d):
        ann(d, ann_id)['segmentation'][0][2] = value

    return edit


MALFORMED = {
    # name: (edit or raw text, regexes the message must contain)
    'top_level_list': ('[]', [r'expected a JSON object', r'got list']),
    'top_level_null': ('null', [r'expected a JSON object']),
    'polygon_coord_string':
    (_coord(3, '64.5'),
     [r'annotation 3\b', r"field 'segmentation'", r"'64\.5'", r'number']),
    'polygon_coord_nan': (_coord(3, float('nan')),
                          [r'annotation 3\b', r"'segmentation'", r'nan',
                           r'finite']),
    'polygon_coord_inf': (_coord(3, float('inf')),
                          [r'annotation 3\b', r"'segmentation'", r'inf',
                           r'finite']),
    'polygon_coord_null': (_coord(3, None),
                           [r'annotation 3\b', r"'segmentation'", r'None']),
    'polygon_flat_list': (_set('annotations', 3, 'segmentation',
                               [10.0, 400.0, 20.0, 400.0, 20.0, 420.0]),
                          [r'annotation 3\b', r"'segmentation'", r'list']),
    'rle_bad_counts': (_set('annotations', 3, 'segmentation', {
        'counts': 5,
        'size': [768, 1024]
    }), [r'annotation 3\b', r"'segmentation'", r'counts']),
    'category_name_twice': (_dup_category_name,
                            [r"'IVS'", r'ids 1 and 5', r"'categories'"]),
    'category_id_twice': (_dup_category_id,
                          [r'category id 1\b', r"'categories'"]),
    'category_id_not_int': (_set('categories', 0, 'id', '1'),
                            [r"'categories.id'", r"'1'", r'integer']),
    'annotation_id_not_int': (_set('annotations', 3, 'id', 3.5),
                              [r"'annotations.id'", r'3\.5', r'integer']),
    'annotation_id_bool': (_set('annotations', 3, 'id', True),
                           [r"'annotations.id'", r'True', r'integer']),
    'annotation_not_dict': (_ann_replaced(3, 17),
                            [r"'annotations'", r'object', r'17']),
    'annotation_no_image_id': (_pop(3, 'image_id'),
                               [r'annotation 3\b', r"'annotations.image_id'"]),
    'annotation_image_id_not_int':
    (_set('annotations', 3, 'image_id', '2'),
     [r'annotation 3\b', r"'annotations.image_id'", r'integer']),
    'annotation_no_category_id':
    (_pop(3, 'category_id'),
     [r'annotation 3\b', r"'annotations.category_id'"]),
    'image_id_not_int': (_set('images', 0, 'id', 'I1000IM_0010'),
                         [r"'images.id'", r'I1000IM_0010', r'integer']),
    'image_id_twice': (_dup_image_id, [r'image id 1\b', r"'images.id'"]),
    'image_height_string': (_set('images', 0, 'height', '768'),
                            [r'image 1\b', r"'images.height'", r'integer']),
    'image_width_zero': (_set('images', 0, 'width', 0),
                         [r'image 1\b', r"'images.width'", r'positive']),
    'image_not_dict': (lambda d: d['images'].__setitem__(0, 'img.jpg'),
                       [r"'images'", r'object']),
}


@pytest.mark.parametrize('fault', sorted(MALFORMED))
def test_malformed_json_names_file_field_and_id(phantom, tmp_path, fault):
    edit, patterns = MALFORMED[fault]
    if isinstance(edit, str):
        root = corrupt(phantom, tmp_path, raw=edit)
    else:
        root = corrupt(phantom, tmp_path, edit)
    with pytest.raises(DatasetFormatError) as e:
        build(root, test_mode=True)
    msg = str(e.value)
    assert ANN in msg, msg
    for p in patterns:
        assert re.search(p, msg), (p, msg)
