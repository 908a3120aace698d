import csv
import filecmp
import json
import os.path as osp

import numpy as np
from pycocotools import mask as mask_utils

from mmecho.datasets.camus.info import read_camus_info
from mmecho.datasets.io import load_medical_image
from mmecho.measurement import biplane_ef
from mmecho.phantoms import make_meis_phantom


def test_meis_deterministic_for_a_seed(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    make_meis_phantom(a, num=3, seed=5)
    make_meis_phantom(b, num=3, seed=5)
    make_meis_phantom(c, num=3, seed=6)
    for name in ('Allmode_train.json', 'truth_measurements.csv',
                 'raw_image/I1000IM_0010.jpg'):
        assert filecmp.cmp(osp.join(a, name), osp.join(b, name), shallow=False)
    assert not filecmp.cmp(
        osp.join(a, 'truth_measurements.csv'),
        osp.join(c, 'truth_measurements.csv'),
        shallow=False)


def _masks(root):
    out = {}
    for split in ('train', 'test'):
        coco = json.load(open(osp.join(root, f'Allmode_{split}.json')))
        names = {c['id']: c['name'] for c in coco['categories']}
        files = {i['id']: i for i in coco['images']}
        for a in coco['annotations']:
            im = files[a['image_id']]
            m = mask_utils.decode(
                mask_utils.merge(
                    mask_utils.frPyObjects(a['segmentation'], im['height'],
                                           im['width'])))
            out[(im['file_name'], names[a['category_id']])] = m
    return out


def test_meis_truth_matches_masks(meis_root):
    """Every indicator of every cycle equals the mask's height at that
    cycle's ED or ES column, within one pixel."""
    masks = _masks(meis_root)
    truth = {
        r['image']: r
        for r in csv.DictReader(
            open(osp.join(meis_root, 'truth_measurements.csv')))
    }
    rows = list(csv.DictReader(open(osp.join(meis_root, 'truth_cycles.csv'))))
    assert rows
    checked = 0
    for r in rows:
        cm = float(truth[r['image']]['cm_per_px'])
        ed, es = (int(round(float(r[k]))) for k in ('ed_col', 'es_col'))

        def height(name, col):
            return masks[(r['image'], name)][:, col].sum()

        def gap(upper, lower, col):
            ys_u = np.nonzero(masks[(r['image'], upper)][:, col])[0]
            ys_l = np.nonzero(masks[(r['image'], lower)][:, col])[0]
            return ys_l.min() - ys_u.max() - 1

        if r['type'] == 'LV':
            got = dict(
                IVSd=height('IVS', ed),
                LVPWd=height('LVPW', ed),
                IVSs=height('IVS', es),
                LVPWs=height('LVPW', es),
                LVIDd=gap('IVS', 'LVPW', ed),
                LVIDs=gap('IVS', 'LVPW', es))
        else:
            got = dict(AoR=height('AoR', ed), LA=height('LA', es))
        for key, px in got.items():
            assert abs(px - float(r[key]) / cm) <= 1.0, (r, key, px)
            checked += 1
    assert checked >= 20
    # truth-table values are the cycle means
    for name, t in truth.items():
        keys = ('IVSd', 'LVIDs') if t['type'] == 'LV' else ('AoR', 'LA')
        for key in keys:
            vals = [float(r[key]) for r in rows if r['image'] == name]
            assert abs(np.mean(vals) - float(t[key])) < 1e-3


def test_meis_images_show_the_anatomy(meis_root):
    """Blood between the walls is darker than the walls themselves."""
    import cv2
    masks = _masks(meis_root)
    for (name, cls), m in masks.items():
        if cls != 'IVS':
            continue
        bgr = cv2.imread(osp.join(meis_root, 'raw_image', name))
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        lvpw = masks[(name, 'LVPW')]
        # a screen with a model's masks burned in over the walls: only the
        # columns where the walls are grey show the anatomy
        spread = bgr.max(-1).astype(int) - bgr.min(-1)
        grey = ~((spread > 30) & (m.astype(bool) | lvpw.astype(bool))).any(0)
        m = m * grey[None]
        # the panel's place differs per screen: columns where both walls are
        both = np.nonzero(m.any(0) & lvpw.any(0))[0]
        cols = both[np.linspace(5, len(both) - 6, 16).astype(int)]
        blood = []
        for c in cols:
            top = np.nonzero(m[:, c])[0].max() + 3
            bot = np.nonzero(lvpw[:, c])[0].min() - 3
            blood.append(img[top:bot, c].mean())
        assert np.mean(blood) < 0.6 * img[m.astype(bool)].mean()


def test_camus_info_is_simpson_of_its_masks(camus_root):
    base = osp.join(camus_root, 'database_nifti', 'patient0002')
    lab = {}
    for v in ('2CH', '4CH'):
        for inst in ('ED', 'ES'):
            arr, sp = load_medical_image(
                osp.join(base, f'patient0002_{v}_{inst}_gt.nii.gz'))
            lab[v, inst] = (arr == 1, sp)
    ref = biplane_ef(lab['4CH', 'ED'][0], lab['4CH', 'ES'][0],
                     lab['2CH', 'ED'][0], lab['2CH', 'ES'][0],
                     lab['4CH', 'ED'][1], lab['2CH', 'ED'][1])
    for v in ('2CH', '4CH'):
        info = read_camus_info(osp.join(base, f'Info_{v}.cfg'))
        assert abs(info['EF'] - ref['EF']) < 0.01
        assert abs(info['LVedv'] - ref['EDV']) < 0.01
        assert 20 < info['EF'] < 80 and info['LVedv'] > info['LVesv']


def test_camus_sequence_labels_and_images(camus_root):
    base = osp.join(camus_root, 'database_nifti', 'patient0001',
                    'patient0001_4CH_')
    frames, _ = load_medical_image(base + 'half_sequence.nii.gz')
    labels, _ = load_medical_image(base + 'half_sequence_gt.nii.gz')
    ed, _ = load_medical_image(base + 'ED_gt.nii.gz')
    assert np.array_equal(labels[0], ed)
    areas = [(lab == 1).sum() for lab in labels]
    assert areas[-1] < 0.85 * areas[0]  # the cavity contracts
    for img, lab in zip(frames, labels):
        assert set(np.unique(lab)) == {0, 1, 2, 3}  # every frame labelled
        assert img[lab == 1].mean() < 0.6 * img[lab == 2].mean()


def test_mnms_vendors_differ(mnms_root):
    from mmecho.datasets import MnMsReader
    reader = MnMsReader(mnms_root, 'mnms_dataset_info.csv')
    stats = {}
    for code in reader.subjects():
        s = reader.load(code)
        t = s['ed']
        img, lab = s['image'][t].astype(float), s['label'][t]
        contrast = img[lab == 1].mean() / img[lab == 2].mean()
        stats.setdefault(s['vendor'], []).append((contrast, s['spacing'][-1]))
    assert set(stats) == {'A', 'B', 'C', 'D'}
    contrasts = {v: np.mean([c for c, _ in x]) for v, x in stats.items()}
    spacings = {v: x[0][1] for v, x in stats.items()}
    assert max(contrasts.values()) - min(contrasts.values()) > 0.5
    assert len(set(np.round(list(spacings.values()), 2))) == 4
