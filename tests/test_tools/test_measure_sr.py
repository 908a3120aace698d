"""tools/measure.py --sr on the DICOM MEIS phantom: one TID 5200 SR per
measured DICOM input, its values those of measurements.csv, its patient and
study those of the source (non-ASCII names included), and no patient data
anywhere else in the outputs; inputs that are not DICOM get a status."""
import csv
import glob
import importlib.util
import json
import os
import os.path as osp

import pytest

from ..dicom_sr_codes import CODES

pytest.importorskip('highdicom')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

NAMES = ('Müller^Jürgen', '山田^太郎')
#: patient data that must stay inside the SR files
SECRETS = ('Müller', 'Jürgen', 'Muller', '山田', '太郎', 'PID-4711',
           'PID-0815', '19600102', 'ACC-9', 'Doe^Jane')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'measure_tool_sr', osp.join(ROOT, 'tools', 'measure.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def merged_coco(root, out, drop_annotations_of=None):
    coco = {'images': [], 'annotations': [], 'categories': []}
    for split in ('train', 'test'):
        with open(osp.join(root, f'Allmode_{split}.json')) as f:
            part = json.load(f)
        coco['categories'] = part['categories']
        coco['images'] += part['images']
        coco['annotations'] += part['annotations']
    if drop_annotations_of is not None:
        ids = {
            i['id']
            for i in coco['images'] if i['file_name'] == drop_annotations_of
        }
        coco['annotations'] = [
            a for a in coco['annotations'] if a['image_id'] not in ids
        ]
    with open(out, 'w') as f:
        json.dump(coco, f)
    return str(out)


@pytest.fixture(scope='module')
def dcm_root(tmp_path_factory):
    """Two DICOM captures (one LV, one AV) with a patient and a study."""
    import pydicom

    from mmecho.phantoms.meis_phantom import make_meis_phantom
    root = str(tmp_path_factory.mktemp('meis_sr'))
    make_meis_phantom(root, num=2, seed=1, image_format='dcm')
    files = sorted(glob.glob(osp.join(root, 'raw_image', '*.dcm')))
    assert len(files) == 2
    for k, (path, name) in enumerate(zip(files, NAMES)):
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = 'ISO_IR 192'
        ds.PatientName = name
        ds.PatientID = ('PID-4711', 'PID-0815')[k]
        ds.PatientBirthDate = '19600102'
        ds.PatientSex = 'MF'[k]
        ds.StudyDate = '20240301'
        ds.StudyTime = '101500'
        ds.AccessionNumber = f'ACC-9{k}'
        ds.ReferringPhysicianName = 'Doe^Jane'
        ds.StudyID = f'S{k}'
        ds.save_as(path, enforce_file_format=True)
    return root


def run(tool, ann, images, out, *extra):
    tool.main([
        '--from-annotations', ann, '--images', images, '--out', out, *extra
    ])


def nums(ds):

    def walk(item):
        for c in item.get('ContentSequence', []):
            yield c
            yield from walk(c)

    out = {}
    for i in walk(ds):
        if i.ValueType == 'NUM':
            c = i.ConceptNameCodeSequence[0]
            mv = i.MeasuredValueSequence[0]
            u = mv.MeasurementUnitsCodeSequence[0]
            out[(c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning)] = (
                float(mv.NumericValue), u.CodeValue, u.CodingSchemeDesignator)
    return out


def test_sr_per_dicom_input_matches_the_csv_and_the_source(
        dcm_root, tmp_path, capfd):
    import highdicom as hd
    import pydicom
    tool = load_tool()
    images = osp.join(dcm_root, 'raw_image')
    ann = merged_coco(dcm_root, tmp_path / 'all.json')
    out = str(tmp_path / 'out')
    run(tool, ann, images, out, '--sr')
    rows = {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}
    index = {r['image']: r for r in read(osp.join(out, 'sr', 'index.csv'))}
    assert set(index) == set(rows) and len(rows) == 2
    types = set()
    for name, row in rows.items():
        assert row['status'] == 'ok' and row['unit'] == 'cm', row
        entry = index[name]
        assert entry['status'] == 'written', entry
        assert entry['sha256'] == row['sha256']
        stem = osp.splitext(name)[0]
        assert entry['file'] == f'sr/{stem}.dcm'
        path = osp.join(out, entry['file'])
        ds = pydicom.dcmread(path)
        src = pydicom.dcmread(osp.join(images, name), stop_before_pixels=True)
        # values, units and codes: those of the CSV row and PS3.16
        expected = {
            CODES[k][:3]: (float(row[k]), CODES[k][3], 'UCUM')
            for k in CODES if row.get(k)
        }
        assert nums(ds) == expected, name
        types.add(row['type'])
        assert len(expected) == (9 if row['type'] == 'LV' else 3)
        # highdicom reads it as a Comprehensive SR with the same values
        back = hd.sr.srread(path)
        assert isinstance(back, hd.sr.ComprehensiveSR)
        found = hd.sr.utils.find_content_items(
            back, value_type=hd.sr.ValueTypeValues.NUM, recursive=True)
        assert sorted((i.name.value, i.value, i.unit.value)
                      for i in found) == sorted(
                          (k[0], v[0], v[1]) for k, v in expected.items())
        # patient and study of the source, the charset, the references
        assert ds.SpecificCharacterSet == 'ISO_IR 192'
        assert str(ds.PatientName) in NAMES
        for keyword in ('PatientName', 'PatientID', 'PatientBirthDate',
                        'PatientSex', 'StudyInstanceUID', 'StudyDate',
                        'StudyTime', 'AccessionNumber',
                        'ReferringPhysicianName', 'StudyID'):
            assert str(ds[keyword].value) == str(src[keyword].value), keyword
        ev = ds.CurrentRequestedProcedureEvidenceSequence[0]
        assert ev.StudyInstanceUID == src.StudyInstanceUID
        ser = ev.ReferencedSeriesSequence[0]
        assert ser.SeriesInstanceUID == src.SeriesInstanceUID
        ref = ser.ReferencedSOPSequence[0]
        assert ref.ReferencedSOPClassUID == src.SOPClassUID
        assert ref.ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert types == {'LV', 'AV'}
    # the names are in the SRs (UTF-8), and nowhere else: CSVs, overlays,
    # the console
    sr_bytes = b''.join(
        open(p, 'rb').read() for p in glob.glob(osp.join(out, 'sr', '*.dcm')))
    for name in NAMES:
        assert name.encode('utf-8') in sr_bytes
    console = capfd.readouterr()
    others = [
        p for p in glob.glob(osp.join(out, '**', '*'), recursive=True)
        if osp.isfile(p) and not p.endswith('.dcm')
    ]
    assert any(p.endswith('.png') for p in others)
    assert any(p.endswith('index.csv') for p in others)
    for secret in SECRETS:
        for encoded in {secret.encode('utf-8'), secret.encode('utf-16-le')}:
            for p in others:
                with open(p, 'rb') as f:
                    assert encoded not in f.read(), (secret, p)
        try:
            latin = secret.encode('latin-1')
        except UnicodeEncodeError:
            latin = None
        for p in others:
            with open(p, 'rb') as f:
                assert latin is None or latin not in f.read(), (secret, p)
        assert secret not in console.out + console.err, secret


def test_measurements_csv_unchanged_and_resume_adds_the_srs(
        dcm_root, tmp_path):
    """measurements.csv has the same columns with and without --sr; rows
    measured without --sr get their SR when a run with --sr resumes, and a
    run after that changes nothing."""
    tool = load_tool()
    images = osp.join(dcm_root, 'raw_image')
    ann = merged_coco(dcm_root, tmp_path / 'all.json')
    out = str(tmp_path / 'out')
    run(tool, ann, images, out)
    plain = read(osp.join(out, 'measurements.csv'))
    assert not osp.exists(osp.join(out, 'sr'))
    run(tool, ann, images, out, '--sr')
    with_sr = read(osp.join(out, 'measurements.csv'))
    assert list(with_sr[0]) == list(plain[0])
    assert with_sr == plain
    index = read(osp.join(out, 'sr', 'index.csv'))
    assert [r['status'] for r in index] == ['written', 'written']
    stamps = {
        p: os.stat(p).st_mtime_ns
        for p in glob.glob(osp.join(out, 'sr', '*.dcm'))
    }
    assert len(stamps) == 2
    run(tool, ann, images, out, '--sr')
    assert read(osp.join(out, 'sr', 'index.csv')) == index
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == stamps


def test_nothing_measured_gets_a_status_and_no_sr(dcm_root, tmp_path):
    tool = load_tool()
    images = osp.join(dcm_root, 'raw_image')
    first = sorted(os.listdir(images))[0]
    ann = merged_coco(dcm_root, tmp_path / 'all.json', first)
    out = str(tmp_path / 'out')
    run(tool, ann, images, out, '--sr')
    rows = {r['image']: r for r in read(osp.join(out, 'measurements.csv'))}
    index = {r['image']: r for r in read(osp.join(out, 'sr', 'index.csv'))}
    assert rows[first]['status'] != 'ok'
    assert index[first]['status'] == 'not written: nothing measured'
    assert index[first]['file'] == ''
    assert not osp.exists(
        osp.join(out, 'sr', osp.splitext(first)[0] + '.dcm'))
    others = [n for n in rows if n != first]
    assert [index[n]['status'] for n in others] == ['written']


def test_non_dicom_inputs_get_no_sr(tmp_path):
    from mmecho.phantoms.meis_phantom import make_meis_phantom
    root = str(tmp_path / 'jpg')
    make_meis_phantom(root, num=2, seed=1, image_format='jpg')
    tool = load_tool()
    out = str(tmp_path / 'out')
    run(tool, merged_coco(root, tmp_path / 'all.json'),
        osp.join(root, 'raw_image'), out, '--sr')
    rows = read(osp.join(out, 'measurements.csv'))
    index = read(osp.join(out, 'sr', 'index.csv'))
    assert [r['image'] for r in index] == [r['image'] for r in rows]
    assert all(r['status'] == 'ok' for r in rows)
    assert {r['status'] for r in index} == {'not written: not a DICOM input'}
    assert glob.glob(osp.join(out, 'sr', '*.dcm')) == []
