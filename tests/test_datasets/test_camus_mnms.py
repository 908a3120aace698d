import os
import os.path as osp
import shutil

import numpy as np
import pytest

from mmecho.datasets import (CAMUSDataset, CAMUSSequenceReader,
                             DatasetFormatError, LoadEchoFrame,
                             LoadEchoLabelMap, MnMsDataset, MnMsReader)
from mmecho.datasets.io import load_medical_image, save_medical_image


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


PIPE = [
    dict(type='LoadEchoFrame'),
    dict(type='LoadEchoLabelMap', valid_labels=(0, 1, 2, 3))
]


def camus(root, patients_dir='database_nifti', **kwargs):
    return CAMUSDataset(
        data_root=root, patients_dir=patients_dir, pipeline=PIPE, **kwargs)


def test_both_camus_releases_give_the_same_frames(camus_root, camus_mhd_root):
    a = camus(camus_root)
    b = camus(camus_mhd_root, patients_dir='training')
    assert len(a) == len(b) == 4 * 2 * 2
    for i in (0, 5):
        ra, rb = a[i], b[i]
        assert ra['img_path'].endswith('.nii.gz')
        assert rb['img_path'].endswith('.mhd')
        assert np.array_equal(ra['img'], rb['img'])
        assert np.array_equal(ra['gt_seg_map'], rb['gt_seg_map'])
        assert np.allclose(ra['spacing'], (1.2, 1.6))
        assert ra['spacing'] == pytest.approx(rb['spacing'])


def test_uncompressed_nii_and_splits(tmp_path):
    from mmecho.phantoms import make_camus_phantom
    make_camus_phantom(
        str(tmp_path), num=3, seed=4, shape=(64, 48), compress=False)
    ds = camus(
        str(tmp_path),
        split='database_split/subgroup_training.txt',
        views=('4CH', ),
        instants=('ES', ))
    assert all(d['img_path'].endswith('.nii') for d in infos(ds))
    assert {d['view'] for d in infos(ds)} == {'4CH'}
    assert {d['instant'] for d in infos(ds)} == {'ES'}


def test_all_frames_and_sequence_reader(camus_root):
    ds = camus(camus_root, instants='all', views=('2CH', ))
    reader = CAMUSSequenceReader(camus_root)
    seq = reader.load('patient0001', '2CH')
    n = seq['frames'].shape[0]
    frames = [d for d in infos(ds) if d['patient'] == 'patient0001']
    assert len(frames) == n == seq['info']['NbFrame']
    assert frames[0]['instant'] == 'ED' and frames[-1]['instant'] == 'ES'
    r = ds[len(frames) - 1]
    assert np.array_equal(r['gt_seg_map'], seq['labels'][-1])
    # the ES file and the last half-sequence frame are the same image
    es, _ = load_medical_image(
        osp.join(camus_root,
                 'database_nifti/patient0001/patient0001_2CH_ES.nii.gz'))
    assert np.array_equal(es, seq['frames'][seq['es_index']])


def copy(root, tmp_path):
    dst = tmp_path / 'c'
    shutil.copytree(root, dst)
    return str(dst)


def test_camus_bad_inputs(camus_root, tmp_path):
    root = copy(camus_root, tmp_path)
    pdir = osp.join(root, 'database_nifti', 'patient0002')
    # split file naming a missing patient
    with open(osp.join(root, 'database_split', 'bad.txt'), 'w') as f:
        f.write('patient0002\npatient0099\n')
    with pytest.raises(DatasetFormatError, match='bad.txt.*patient0099'):
        camus(root, split='database_split/bad.txt')
    # label map whose shape differs from its image
    gt = osp.join(pdir, 'patient0002_4CH_ED_gt.nii.gz')
    save_medical_image(gt, np.zeros((10, 10), np.uint8), (1, 1))
    ds = camus(root, split=['patient0002'], views=('4CH', ), instants=('ED', ))
    with pytest.raises(DatasetFormatError, match='ED_gt.nii.gz.*shape'):
        ds[0]
    # unexpected label values
    save_medical_image(gt, np.full((128, 96), 7, np.uint8), (1.2, 1.6))
    with pytest.raises(DatasetFormatError, match=r'label values \[7\]'):
        ds[0]
    # missing file, corrupt file
    os.remove(osp.join(pdir, 'patient0002_2CH_ES.nii.gz'))
    with pytest.raises(
            DatasetFormatError, match='patient0002_2CH_ES.*not '
            'found'):
        camus(root, split=['patient0002'])
    with open(osp.join(pdir, 'patient0002_4CH_ES.nii.gz'), 'wb') as f:
        f.write(b'\x1f\x8b garbage')
    ds = camus(root, split=['patient0002'], views=('4CH', ), instants=('ES', ))
    with pytest.raises(DatasetFormatError, match='4CH_ES.nii.gz'):
        ds[0]
    # Info file disagreeing with the sequence
    with open(osp.join(pdir, 'Info_2CH.cfg'), 'a') as f:
        f.write('NbFrame: 99\n')
    with pytest.raises(DatasetFormatError, match="field 'NbFrame'"):
        CAMUSSequenceReader(root).load('patient0002', '2CH')


def test_mnms_reader_and_slices(mnms_root):
    reader = MnMsReader(mnms_root, 'mnms_dataset_info.csv')
    train = reader.subjects(splits=['Training/Labeled'])
    assert {reader.info[c]['Vendor'] for c in train} == {'A', 'B'}
    subject = reader.load(train[0])
    T, Z, H, W = subject['image'].shape
    labelled = [t for t in range(T) if subject['label'][t].any()]
    assert labelled == sorted({subject['ed'], subject['es']})
    assert set(np.unique(subject['label'])) <= {0, 1, 2, 3}
    ds = MnMsDataset(
        data_root=mnms_root,
        info_file='mnms_dataset_info.csv',
        splits=['Training/Labeled'],
        pipeline=PIPE)
    assert len(ds) == len(train) * 2 * Z
    r = ds[0]
    assert r['img'].shape == (H, W, 3) and r['gt_seg_map'].shape == (H, W)
    unseen = MnMsDataset(
        data_root=mnms_root,
        info_file='mnms_dataset_info.csv',
        splits=['Testing'],
        vendors=['C', 'D'],
        pipeline=PIPE)
    assert {d['vendor'] for d in infos(unseen)} == {'C', 'D'}


def test_mnms_bad_csv(mnms_root, tmp_path):
    root = tmp_path / 'm'
    shutil.copytree(mnms_root, root)
    csv_path = root / 'mnms_dataset_info.csv'
    text = csv_path.read_text().replace('Centre', 'Center')
    csv_path.write_text(text)
    with pytest.raises(DatasetFormatError, match=r"missing columns \['Centre"):
        MnMsReader(str(root), 'mnms_dataset_info.csv')


def test_loading_transforms_reject_wrong_index(camus_root):
    path = osp.join(camus_root, 'database_nifti', 'patient0001',
                    'patient0001_2CH_half_sequence.nii.gz')
    with pytest.raises(DatasetFormatError, match='out of range'):
        LoadEchoFrame()(dict(img_path=path, frame_index=500))
    r = LoadEchoFrame(num_channels=1)(dict(img_path=path, frame_index=0))
    assert r['img'].shape[2] == 1
    r['seg_map_path'] = path.replace('.nii.gz', '_gt.nii.gz')
    assert LoadEchoLabelMap()(r)['gt_seg_map'].dtype == np.uint8
