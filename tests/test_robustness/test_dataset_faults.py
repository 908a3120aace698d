"""Hostile inputs for the CAMUS / M&Ms datasets, image loading and BatchNorm
(issue 15, points 6 and 7): each fault gives a DatasetFormatError (or a
counted warning) that names the file, the field and the counts."""
import os
import os.path as osp
import re
import shutil
import warnings

import cv2
import numpy as np
import pytest
import torch

from mmecho.datasets import (CAMUSDataset, CAMUSSequenceDataset,
                             CAMUSSequenceReader, DatasetFormatError,
                             MnMsDataset, MnMsReader)
from mmecho.datasets.drop_report import DatasetDropWarning
from mmecho.datasets.io import read_image_shape, save_medical_image

PIPE = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3))
]
INFO = 'mnms_dataset_info.csv'
PATIENT = 'patient0002'


def _copy(src, tmp_path, name):
    dst = str(tmp_path / name)
    shutil.copytree(src, dst)
    return dst


@pytest.fixture
def camus_copy(camus_root, tmp_path):
    return _copy(camus_root, tmp_path, 'camus')


@pytest.fixture
def mnms_copy(mnms_root, tmp_path):
    return _copy(mnms_root, tmp_path, 'mnms')


def drop_warnings(record):
    return [
        str(w.message) for w in record
        if issubclass(w.category, DatasetDropWarning)
    ]


# --------------------------------------------------------------------------
# M&Ms: subjects dropped while building the dataset are counted
# --------------------------------------------------------------------------
@pytest.mark.parametrize('fault,reason', [('no_gt', '_sa_gt'),
                                          ('no_image', '_sa image')])
@pytest.mark.parametrize('strict', [False, True])
def test_mnms_dropped_subject_is_counted(mnms_copy, fault, reason, strict):
    reader = MnMsReader(mnms_copy, INFO)
    codes = reader.subjects(['Training/Labeled'])
    victim = codes[0]
    slices = reader.frame_indices(victim)['slices']
    folder = reader.dirs[victim]
    name = '_sa_gt' if fault == 'no_gt' else '_sa'
    os.remove(osp.join(folder, f'{victim}{name}.nii.gz'))
    kwargs = dict(
        data_root=mnms_copy,
        info_file=INFO,
        splits=['Training/Labeled'],
        pipeline=PIPE)
    if strict:
        with pytest.raises(DatasetFormatError) as exc:
            MnMsDataset(strict=True, **kwargs)
        msg = str(exc.value)
    else:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter('always')
            ds = MnMsDataset(**kwargs)
        msgs = drop_warnings(record)
        assert len(msgs) == 1, msgs  # one warning per dataset build
        msg = msgs[0]
        assert len(ds) == (len(codes) - 1) * 2 * slices
    assert 'MnMsDataset' in msg and 'dropped 1 item(s)' in msg
    assert victim in msg and reason in msg
    assert f'{slices} slices' in msg
    assert INFO in msg


def test_mnms_unlabeled_split_is_not_a_drop(mnms_copy):
    """Subjects under Training/Unlabeled lack labels by design."""
    reader = MnMsReader(mnms_copy, INFO)
    code = reader.subjects(['Validation'])[0]
    dst = osp.join(mnms_copy, 'Training', 'Unlabeled', code)
    shutil.move(reader.dirs[code], dst)
    os.remove(osp.join(dst, f'{code}_sa_gt.nii.gz'))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        ds = MnMsDataset(data_root=mnms_copy, info_file=INFO, pipeline=PIPE)
    assert not drop_warnings(record)
    assert code not in {ds.get_data_info(i)['subject'] for i in range(len(ds))}


# --------------------------------------------------------------------------
# CAMUS: Info_*.cfg frames inconsistent with the sequence
# --------------------------------------------------------------------------
def _num_frames(root, view='2CH'):
    return read_image_shape(
        osp.join(root, 'database_nifti', PATIENT,
                 f'{PATIENT}_{view}_half_sequence.nii.gz'))[0]


def _set_info(root, view='2CH', **values):
    path = osp.join(root, 'database_nifti', PATIENT, f'Info_{view}.cfg')
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key = line.split(':', 1)[0].strip()
        out.append(f'{key}: {values[key]}' if key in values else line)
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return path


# (values written, field named, text expected; {n} = frames in the file)
INFO_FAULTS = {
    'es_beyond_sequence': (dict(ES='{n1}'), 'ES', '{n} frames'),
    'ed_after_es': (dict(ED='9', ES='5'), 'ED', 'ED=9, ES=5'),
    'ed_equals_es': (dict(ED='5', ES='5'), 'ED', 'ED=5, ES=5'),
    'ed_zero': (dict(ED='0'), 'ED', '1-based'),
    'es_not_integer': (dict(ES='18.7'), 'ES', "'18.7'"),
    'nbframe_mismatch': (dict(NbFrame='{n1}'), 'NbFrame', '{n} frames'),
}


def _build_camus_dataset(root):
    return CAMUSDataset(
        data_root=root, split=[PATIENT], views=('2CH', ), pipeline=PIPE)


def _build_camus_all_frames(root):
    return CAMUSDataset(
        data_root=root,
        split=[PATIENT],
        views=('2CH', ),
        instants='all',
        pipeline=PIPE)


def _build_camus_sequence_dataset(root):
    return CAMUSSequenceDataset(
        data_root=root, split=[PATIENT], views=('2CH', ))


def _camus_sequence_reader(root):
    return CAMUSSequenceReader(root).load(PATIENT, '2CH')


CONSUMERS = {
    'CAMUSDataset': _build_camus_dataset,
    'CAMUSDataset_all': _build_camus_all_frames,
    'CAMUSSequenceDataset': _build_camus_sequence_dataset,
    'CAMUSSequenceReader': _camus_sequence_reader,
}


@pytest.mark.parametrize('consumer', sorted(CONSUMERS))
@pytest.mark.parametrize('fault', sorted(INFO_FAULTS))
def test_camus_info_frames_are_checked(camus_copy, fault, consumer):
    values, field, text = INFO_FAULTS[fault]
    n = _num_frames(camus_copy)
    values = {k: v.format(n1=n + 1) for k, v in values.items()}
    path = _set_info(camus_copy, **values)
    with pytest.raises(DatasetFormatError) as exc:
        CONSUMERS[consumer](camus_copy)
    msg = str(exc.value)
    assert exc.value.path == path, msg
    assert f"field '{field}'" in msg
    assert text.format(n=n) in msg


def test_camus_info_integral_float_is_accepted(camus_copy):
    n = _num_frames(camus_copy)
    _set_info(camus_copy, ES=f'{n}.0')
    assert len(_build_camus_dataset(camus_copy)) == 2


# --------------------------------------------------------------------------
# Empty datasets
# --------------------------------------------------------------------------
def _empty_split_file(root):
    path = osp.join(root, 'database_split', 'empty.txt')
    open(path, 'w').close()
    return CAMUSDataset(
        data_root=root, split='database_split/empty.txt', pipeline=PIPE)


def _no_patient_folders(root):
    shutil.rmtree(osp.join(root, 'database_nifti'))
    os.makedirs(osp.join(root, 'database_nifti'))
    return CAMUSDataset(data_root=root, pipeline=PIPE)


def _camus_empty_list(root):
    return CAMUSDataset(data_root=root, split=[], pipeline=PIPE)


def _camus_no_views(root):
    return CAMUSDataset(data_root=root, views=(), pipeline=PIPE)


def _camus_sequence_empty(root):
    return CAMUSSequenceDataset(data_root=root, split=[])


def _camus_frame_pairs_empty_split(root):
    from mmecho.datasets.camus import CAMUSFramePairDataset
    open(osp.join(root, 'database_split', 'empty.txt'), 'w').close()
    return CAMUSFramePairDataset(
        data_root=root, split='database_split/empty.txt', size=(32, 32))


def _camus_frame_pairs_no_views(root):
    from mmecho.datasets.camus import CAMUSFramePairDataset
    return CAMUSFramePairDataset(data_root=root, views=(), size=(32, 32))


def _camus_frame_pairs_all_excluded(root):
    from mmecho.datasets.camus import CAMUSFramePairDataset
    return CAMUSFramePairDataset(
        data_root=root,
        split=['patient0001'],
        exclude=['patient0001'],
        size=(32, 32))


def _mnms_vendor(root):
    return MnMsDataset(
        data_root=root, info_file=INFO, vendors=['Z'], pipeline=PIPE)


def _mnms_split(root):
    return MnMsDataset(
        data_root=root, info_file=INFO, splits=['Nowhere'], pipeline=PIPE)


def _mnms_frame_pairs_vendor(root):
    from mmecho.datasets.mnms import MnMsFramePairDataset
    return MnMsFramePairDataset(
        data_root=root, info_file=INFO, vendors=['Z'], size=(32, 32))


# builder, which phantom, texts the message must hold
EMPTY = {
    'camus_empty_split_file':
    (_empty_split_file, 'camus', ['empty.txt', 'no patient ids']),
    'camus_no_patient_folders':
    (_no_patient_folders, 'camus', ['database_nifti', 'no patient folders']),
    'camus_empty_patient_list':
    (_camus_empty_list, 'camus', ['CAMUSDataset', 'split=[]', 'views=']),
    'camus_no_views':
    (_camus_no_views, 'camus', ['CAMUSDataset', 'split=None', 'views=()']),
    'camus_sequence_empty': (_camus_sequence_empty, 'camus',
                             ['CAMUSSequenceDataset', 'split=[]']),
    'camus_frame_pairs_empty_split': (_camus_frame_pairs_empty_split, 'camus',
                                      ['empty.txt', 'no patient ids']),
    'camus_frame_pairs_no_views':
    (_camus_frame_pairs_no_views, 'camus',
     ['CAMUSFramePairDataset', 'views=()']),
    'camus_frame_pairs_all_excluded':
    (_camus_frame_pairs_all_excluded, 'camus',
     ['CAMUSFramePairDataset', "exclude=['patient0001']"]),
    'mnms_vendor_filter': (_mnms_vendor, 'mnms',
                           ["vendors=['Z']", 'splits=None']),
    'mnms_split_filter': (_mnms_split, 'mnms',
                          ["splits=['Nowhere']", 'vendors=None']),
    'mnms_frame_pairs_vendor': (_mnms_frame_pairs_vendor, 'mnms',
                                ["vendors=['Z']"]),
}


@pytest.mark.parametrize('case', sorted(EMPTY))
def test_empty_dataset_names_root_split_and_filters(case, camus_copy,
                                                    mnms_copy):
    build, which, texts = EMPTY[case]
    root = camus_copy if which == 'camus' else mnms_copy
    with pytest.raises(DatasetFormatError) as exc:
        build(root)
    msg = str(exc.value)
    assert root in msg
    for text in texts:
        assert text in msg, msg
    assert 'need at least one array' not in msg


# --------------------------------------------------------------------------
# Unreadable images
# --------------------------------------------------------------------------
def _write_image(tmp_path, ext):
    rng = np.random.default_rng(0)
    array = (rng.random((5, 40, 32)) * 255).astype(np.uint8)
    path = str(tmp_path / f'img.{ext}')
    if ext in ('png', 'jpg'):
        cv2.imwrite(path, np.repeat(array[0][..., None], 3, axis=2))
    else:
        save_medical_image(path, array, (1.0, 1.2, 1.4))
    return path


def _corrupt(path, how):
    data_path = path[:-4] + '.raw' if path.endswith('.mhd') else path
    with open(data_path, 'rb') as f:
        data = f.read()
    with open(data_path, 'wb') as f:
        f.write(b'' if how == 'empty' else data[:len(data) // 2])
    return data_path


@pytest.mark.parametrize('how', ['empty', 'truncated'])
@pytest.mark.parametrize('ext', ['png', 'jpg', 'nii.gz', 'nii', 'mhd'])
def test_unreadable_image_names_the_path(tmp_path, ext, how):
    from mmecho.registry import TRANSFORMS
    path = _write_image(tmp_path, ext)
    bad = _corrupt(path, how)
    if ext in ('png', 'jpg'):
        # what configs with default_scope='mmecho' get for this name
        load = TRANSFORMS.build(dict(type='LoadImageFromFile'))
        results = dict(img_path=path)
    else:
        load = TRANSFORMS.build(dict(type='LoadEchoFrame'))
        results = dict(img_path=path, frame_index=0)
    with pytest.raises(DatasetFormatError) as exc:
        load(results)
    assert exc.value.path == bad
    assert bad in str(exc.value)


def test_truncated_jpeg_tail_is_detected(tmp_path):
    """libjpeg decodes a JPEG without its end marker with only a warning."""
    from mmecho.registry import TRANSFORMS
    path = _write_image(tmp_path, 'jpg')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:-2])
    load = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    with pytest.raises(DatasetFormatError, match='truncated'):
        load(dict(img_path=path))
    # the intact image still loads
    with open(path, 'wb') as f:
        f.write(data)
    assert load(dict(img_path=path))['img'].shape == (40, 32, 3)


# --------------------------------------------------------------------------
# BatchNorm on a batch of one
# --------------------------------------------------------------------------
def _tiny_deeplabv3plus():
    from mmecho.registry import MODELS
    norm_cfg = dict(type='BN', requires_grad=True)
    model = MODELS.build(
        dict(
            type='EchoEncoderDecoder',
            data_preprocessor=dict(
                type='EchoSegDataPreProcessor',
                mean=[60.0] * 3,
                std=[50.0] * 3,
                pad_val=0,
                seg_pad_val=255,
                size=(64, 64)),
            backbone=dict(
                type='PlainConvEncoder',
                base_channels=4,
                output_stride=16,
                out_indices=(1, 4)),
            decode_head=dict(
                type='mmseg.DepthwiseSeparableASPPHead',
                in_index=1,
                channels=8,
                dilations=(1, 2),
                c1_in_channels=None,
                c1_channels=4,
                num_classes=4,
                norm_cfg=norm_cfg,
                loss_decode=dict(
                    type='mmseg.CrossEntropyLoss', loss_weight=1.0)),
            train_cfg=dict(),
            test_cfg=dict(mode='whole')))
    model.train()
    return model


def _batch(n, size=64):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 4, (1, size, size)))
        s.set_metainfo(dict(img_shape=(size, size), pad_shape=(size, size)))
        samples.append(s)
    return torch.rand(n, 3, size, size), samples


def test_batchnorm_batch_of_one_says_what_to_change():
    model = _tiny_deeplabv3plus()
    inputs, samples = _batch(1)
    with pytest.raises(ValueError) as exc:
        model(inputs, samples, mode='loss')
    msg = str(exc.value)
    assert 'batch size >= 2' in msg
    assert 'GN' in msg
    assert 'image_pool' in msg  # the layer that saw one value per channel
    assert 'Expected more than 1 value per channel' in msg  # torch's own
    inputs, samples = _batch(2)
    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])


def test_batchnorm_guard_keeps_other_value_errors(monkeypatch):
    model = _tiny_deeplabv3plus()

    def boom(*args, **kwargs):
        raise ValueError('something else')

    monkeypatch.setattr(model.decode_head, 'loss', boom)
    inputs, samples = _batch(2)
    with pytest.raises(ValueError) as exc:
        model(inputs, samples, mode='loss')
    assert str(exc.value) == 'something else'
    assert type(exc.value) is ValueError


def test_batchnorm_on_a_tiny_input_suggests_a_larger_input():
    model = _tiny_deeplabv3plus()
    inputs, samples = _batch(1, size=16)  # stride 16: a 1x1 encoder map
    with pytest.raises(ValueError) as exc:
        model(inputs, samples, mode='loss')
    msg = str(exc.value)
    assert 'batch size >= 2' in msg and 'larger input' in msg
    assert 'Layer: backbone.' in msg
