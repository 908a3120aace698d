"""tools/measure.py on the DICOM variant of the MEIS phantom: the M-mode
region of the Sequence of Ultrasound Regions calibrates depth (cm per pixel)
and time (heart rate), with or without a burned-in depth scale, uncompressed
or JPEG-baseline compressed."""
import os.path as osp

import pytest

from tests.test_tools.test_measure_cli import load_tool, read

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INDICATORS = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA')




@pytest.fixture(scope='module')
def dcm_root(tmp_path_factory):
    from mmecho.phantoms import make_phantom
    root = str(tmp_path_factory.mktemp('meis_dcm'))
    make_phantom('meis', root, num=6, seed=3, image_format='dcm')
    return root


@pytest.mark.parametrize('split', ['train', 'test'])
def test_dicom_region_calibrates_depth_and_time(dcm_root, tmp_path, split):
    truth = {
        r['image']: r
        for r in read(osp.join(dcm_root, 'truth_measurements.csv'))
    }
    assert all(name.endswith('.dcm') for name in truth)
    out = str(tmp_path / 'out')
    ann = osp.join(dcm_root, f'Allmode_{split}.json')
    load_tool().main([
        '--from-annotations', ann, '--images',
        osp.join(dcm_root, 'raw_image'), '--out', out, '--reference',
        osp.join(dcm_root, 'truth_measurements.csv')
    ])
    rows = read(osp.join(out, 'measurements.csv'))
    assert rows and {r['image']
                     for r in rows
                     } == {n
                           for n, t in truth.items() if t['split'] == split}
    for r in rows:
        t = truth[r['image']]
        assert r['status'] == 'ok', (r['image'], r['status'])
        assert r['calibration'] == 'dicom region', r['image']
        assert r['unit'] == 'cm'
        assert float(r['cm_per_px']) == pytest.approx(
            float(t['cm_per_px']), rel=1e-4)
        assert float(r['heart_rate_bpm']) == pytest.approx(
            float(t['heart_rate_bpm']), rel=0.02)
        # the file's own Heart Rate (0018,1088): the true rate, rounded
        assert r['dicom_heart_rate_bpm'] == str(
            int(round(float(t['heart_rate_bpm']))))
        assert r['heart_rate_check'] == 'agree', r['image']
        period = 1 / float(t['heart_rate_bpm']) * 60 / float(t['s_per_px'])
        assert float(r['cycle_length_px']) == pytest.approx(period, rel=0.02)
    agreement = {
        r['indicator']: r
        for r in read(osp.join(out, 'agreement.csv'))
    }
    assert set(agreement) == set(INDICATORS)
    for name, r in agreement.items():
        assert int(r['n']) >= 1
        assert float(r['MAE_cm']) < 0.02, (name, r['MAE_cm'])


def test_phantom_has_dicoms_without_a_burned_in_scale(dcm_root):
    """The files without a depth scale on screen (measured above from their
    DICOM region) are refused by the depth-scale reader: their calibration
    can only come from the region."""
    from mmecho.apis import MModeMeasurer
    from mmecho.datasets.io.dicom import read_dicom
    truth = read(osp.join(dcm_root, 'truth_measurements.csv'))
    bare = [t for t in truth if t['scale_style'] == 'none']
    assert bare and len(bare) < len(truth)
    measurer = MModeMeasurer(read_scale=True)
    for t in bare:
        dcm = read_dicom(osp.join(dcm_root, 'raw_image', t['image']))
        region = dcm.mmode_region
        assert region is not None
        assert region.cm_per_px == pytest.approx(
            float(t['cm_per_px']), rel=1e-4)
        frame = dcm.read_frame(0)
        value, source = measurer.calibrate(frame)
        assert value is None and source.startswith(
            'none: depth scale refused'), (t['image'], value, source)
        assert measurer.calibrate(
            frame, region=region) == (region.cm_per_px, 'dicom region')


def _set_heart_rate(path, value: bytes):
    """Rewrite the Heart Rate (0018,1088) value of an explicit-VR file in
    place (even length, as DICOM pads it)."""
    with open(path, 'rb') as f:
        data = f.read()
    i = data.index(b'\x18\x00\x88\x10IS')
    n = int.from_bytes(data[i + 6:i + 8], 'little')
    if len(value) % 2:
        value += b' '
    data = data[:i + 6] + len(value).to_bytes(2, 'little') + value + \
        data[i + 8 + n:]
    with open(path, 'wb') as f:
        f.write(data)


def test_dicom_heart_rate_disagreeing_malformed_or_absent(dcm_root, tmp_path):
    """A Heart Rate 20 % off the measured one is flagged; a malformed one
    is reported (never used, never a crash); none says so."""
    import json
    import shutil
    images = tmp_path / 'images'
    shutil.copytree(osp.join(dcm_root, 'raw_image'), images)
    truth = read(osp.join(dcm_root, 'truth_measurements.csv'))
    names = [t['image'] for t in truth]
    hr = {t['image']: float(t['heart_rate_bpm']) for t in truth}
    off = str(int(round(hr[names[0]] * 1.2))).encode()
    _set_heart_rate(str(images / names[0]), off)
    _set_heart_rate(str(images / names[1]), b'abc')
    _set_heart_rate(str(images / names[2]), b'0')
    _set_heart_rate(str(images / names[3]), b'')
    coco = {'images': [], 'annotations': [], 'categories': []}
    for split in ('train', 'test'):
        with open(osp.join(dcm_root, f'Allmode_{split}.json')) as f:
            part = json.load(f)
        coco['categories'] = part['categories']
        coco['images'] += part['images']
        coco['annotations'] += part['annotations']
    ann = str(tmp_path / 'all.json')
    with open(ann, 'w') as f:
        json.dump(coco, f)
    out = str(tmp_path / 'out')
    load_tool().main(
        ['--from-annotations', ann, '--images',
         str(images), '--out', out])
    rows = {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}
    r = rows[names[0]]
    assert r['status'] == 'ok' and r['dicom_heart_rate_bpm'] == off.decode()
    assert r['heart_rate_check'].startswith(
        'disagree: measured is -1'), r['heart_rate_check']
    for name, got in ((names[1], "'abc'"), (names[2], "'0'")):
        r = rows[name]
        assert r['status'] == 'ok', r  # the measurement itself stands
        assert r['dicom_heart_rate_bpm'] == ''
        assert r['heart_rate_check'] == (
            "DICOM heart rate unreadable: field 'HeartRate' (0018,1088): "
            'expected a positive integer string (IS, beats per minute, '
            f'1-400), got {got}')
    r = rows[names[3]]
    assert r['dicom_heart_rate_bpm'] == ''
    assert r['heart_rate_check'] == 'no DICOM heart rate'
    for name in names[4:]:
        assert rows[name]['heart_rate_check'] == 'agree', name
