"""AMEM on phantom ground truth: cycles, strip, calibration, statuses."""
import csv
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmecho.apis import MModeMeasurer
from mmecho.datasets.io import DatasetFormatError
from mmecho.measurement import (AV_INDICATORS, LV_INDICATORS, band_edges,
                                find_cycles, find_mmode_panel,
                                lv_derived_indices, measure_mmode,
                                polygon_band_edges, read_depth_scale)
from mmecho.measurement.mmode_indices import ase_cube_lv_mass, teichholz_volume


def phantom_items(root):
    truth = {
        r['image']: r
        for r in csv.DictReader(
            open(osp.join(root, 'truth_measurements.csv')))
    }
    cycles = list(csv.DictReader(open(osp.join(root, 'truth_cycles.csv'))))
    for split in ('train', 'test'):
        coco = COCO(osp.join(root, f'Allmode_{split}.json'))
        cats = {c['id']: c['name'] for c in coco.loadCats(coco.getCatIds())}
        for img in coco.loadImgs(coco.getImgIds()):
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
            if not anns:
                continue
            yield dict(
                name=img['file_name'],
                path=osp.join(root, 'raw_image', img['file_name']),
                polygons={
                    cats[a['category_id']]: a['segmentation']
                    for a in anns
                },
                bitmaps={
                    cats[a['category_id']]: coco.annToMask(a) > 0
                    for a in anns
                },
                width=img['width'],
                truth=truth[img['file_name']],
                cycles=[c for c in cycles if c['image'] == img['file_name']])


@pytest.fixture(scope='module')
def items(meis_root):
    return list(phantom_items(meis_root))


def test_every_indicator_within_one_pixel_of_the_truth(items):
    assert {it['truth']['type'] for it in items} == {'LV', 'AV'}
    rates = [float(it['truth']['heart_rate_bpm']) for it in items]
    assert max(rates) - min(rates) > 15  # different heart rates
    for it in items:
        cm = float(it['truth']['cm_per_px'])
        edges = {
            k: polygon_band_edges(v, it['width'])
            for k, v in it['polygons'].items()
        }
        r = measure_mmode(edges, cm, 'given')
        assert r.status == 'ok', (it['name'], r.status)
        assert r.image_type == it['truth']['type']
        # the same cycles as the phantom's timeline, ED/ES within 2 columns
        assert len(r.cycles) == len(it['cycles']), it['name']
        for got, want in zip(r.cycles, it['cycles']):
            assert abs(got.ed_col - float(want['ed_col'])) <= 2
            assert abs(got.es_col - float(want['es_col'])) <= 2
        for k in r.indicators:
            err_px = abs(r.mean_cm(k) - float(it['truth'][k])) / cm
            assert err_px < 1.0, (it['name'], k, err_px)


def test_bitmap_masks_also_within_one_pixel(items):
    errs = []
    for it in items:
        cm = float(it['truth']['cm_per_px'])
        r = measure_mmode(it['bitmaps'], cm)
        assert r.status == 'ok'
        errs += [
            abs(r.mean_cm(k) - float(it['truth'][k])) / cm
            for k in r.indicators
        ]
    assert np.mean(errs) < 0.5 and np.max(errs) < 1.5


def test_cycles_at_different_heart_rates():
    x = np.arange(900)
    for period in (60, 110, 180, 260):
        phase = ((x - 17) % period) / period
        # contraction: half cosine up to ES (phase 0.35), back down after
        w = np.where(phase < 0.35, 0.5 * (1 - np.cos(np.pi * phase / 0.35)),
                     0.5 * (1 + np.cos(np.pi * (phase - 0.35) / 0.65)))
        lvid = 100 - 30 * w
        cycles = find_cycles(lvid, ed_at='max')
        eds = [c.ed_col for c in cycles]
        expected = [
            e for e in range(17, 900, period) if e + 0.35 * period < 897
        ]
        assert len(eds) == len(expected), period
        assert all(abs(a - b) <= 1 for a, b in zip(eds, expected))
        for c in cycles:
            assert abs((c.es_col - c.ed_col) - 0.35 * period) <= 2
    assert find_cycles(np.full(500, 90.0)) == []  # no motion, no cycle


def test_panel_geometry_and_depth_scale(items):
    """Every phantom screen has its own layout (panel place and size, depth,
    scale style): the panel is found within 2 px, the scale within 0.5 %."""
    for it in items:
        image = cv2.imread(it['path'])
        t = it['truth']
        truth_panel = [
            int(t[k]) for k in ('panel_top', 'panel_bottom', 'panel_left',
                                'panel_right')
        ]
        panel = find_mmode_panel(image)
        assert np.abs(np.subtract(panel, truth_panel)).max() <= 2, it['name']
        cm = read_depth_scale(image)
        truth = float(t['cm_per_px'])
        assert cm == pytest.approx(truth, rel=5e-3), it['name']
    # a black capture has no panel and no scale: None, not an exception
    assert read_depth_scale(np.zeros((768, 1024, 3), np.uint8)) is None
    assert read_depth_scale(
        np.zeros((768, 1024, 3), np.uint8), (342, 730, 60, 930)) is None


def test_calibration_precedence(items, tmp_path):
    it = items[0]
    image = cv2.imread(it['path'])
    edges = {
        k: polygon_band_edges(v, it['width'])
        for k, v in it['polygons'].items()
    }
    path = str(tmp_path / 'cap.jpg')
    cv2.imwrite(path, image)
    r = MModeMeasurer().measure_masks(edges, image, path)
    assert r.calibration == 'depth scale' and r.cm_per_px > 0
    (tmp_path / 'cap.json').write_text(json.dumps({'cm_per_px': 0.05}))
    r = MModeMeasurer().measure_masks(edges, image, path)
    assert (r.calibration, r.cm_per_px) == ('sidecar json', 0.05)
    r = MModeMeasurer(cm_per_px=0.02).measure_masks(edges, image, path)
    assert (r.calibration, r.cm_per_px) == ('given', 0.02)
    (tmp_path / 'cap.json').write_text(json.dumps({'cm_per_px': -1}))
    with pytest.raises(DatasetFormatError, match='cm_per_px'):
        MModeMeasurer().measure_masks(edges, image, path)
    # unknown calibration: pixels, and said so
    r = MModeMeasurer(read_scale=False).measure_masks(edges)
    row = r.as_row()
    assert r.cm_per_px is None and row['unit'] == 'px'
    assert row['calibration'] == 'none' and float(row[r.indicators[0]]) > 1


def test_missing_and_contradictory_structures_get_a_status(items):
    lv = next(it for it in items if it['truth']['type'] == 'LV')
    av = next(it for it in items if it['truth']['type'] == 'AV')
    b = {**lv['bitmaps'], **av['bitmaps']}
    cases = {
        'LVPW missing': {
            'IVS': b['IVS']
        },
        'LA missing': {
            'AoR': b['AoR']
        },
        'contradictory': b,
        'no structure': {},
    }
    for expected, masks in cases.items():
        r = measure_mmode(masks, 0.04)
        assert expected in r.status and not r.cycles
        row = r.as_row()
        assert all(row[k] == '' for k in LV_INDICATORS + AV_INDICATORS)
    swapped = measure_mmode({'IVS': b['LVPW'], 'LVPW': b['IVS']}, 0.04)
    assert 'contradictory' in swapped.status
    flat = np.zeros_like(b['IVS'])
    flat[100:120, 60:900] = True
    still = measure_mmode({'IVS': flat, 'LVPW': np.roll(flat, 80, 0)}, 0.04)
    assert still.status == 'no complete cardiac cycle found in the strip'


def test_band_edges_sub_pixel_from_soft_masks():
    m = np.zeros((20, 3))
    m[5:10] = 1
    m[4] = 0.25  # a quarter of row 4 covered
    m[10] = 0.5
    top, bottom = band_edges(m)
    assert top == pytest.approx(4.75 * np.ones(3), abs=0.3)
    assert bottom == pytest.approx(10.5 * np.ones(3), abs=0.3)
    top, bottom = band_edges(m > 0.6)
    assert (top == 5).all() and (bottom == 10).all()


def test_derived_indices():
    assert teichholz_volume(5.0) == pytest.approx(7 * 125 / 7.4)
    assert ase_cube_lv_mass(1.0, 5.0, 1.0) == pytest.approx(0.8 * 1.04 *
                                                            (343 - 125) + 0.6)
    d = lv_derived_indices(1.0, 5.0, 1.0, 1.4, 3.0, 1.5)
    assert d['FS'] == pytest.approx(40.0)
    assert d['RWT'] == pytest.approx(0.4)
    assert d['EF'] == pytest.approx((d['EDV'] - d['ESV']) / d['EDV'] * 100)
