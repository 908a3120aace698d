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
            float(t['heart_rate_bpm']), rel=0.03)
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
