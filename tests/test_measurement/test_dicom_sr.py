"""mmecho.measurement.dicom_sr: the TID 5200 Comprehensive SR of one M-mode
measurement, read back with pydicom and highdicom, checked against the codes
of DICOM PS3.16 (stated here as facts, not taken from the module) and, when
dicom3tools is installed, validated by ``dciodvfy``."""
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from ..conftest import ROOT
from ..dicom_sr_codes import (AORTA, CODES, IMAGE_MODE, LEFT_ATRIUM,
                              LEFT_VENTRICLE, M_MODE)

pytest.importorskip('highdicom')

US_IMAGE = '1.2.840.10008.5.1.4.1.1.6.1'
US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3.1'
COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33'

FINDING_SITE = ('363698007', 'SCT')
MEASUREMENT_METHOD = ('370129005', 'SCT')
TEICHHOLZ = ('125209', 'DCM')
DERIVATION = ('121401', 'DCM')
MEAN, MEDIAN, CALCULATED = (('373098007', 'SCT'), ('373099004', 'SCT'),
                            ('258090004', 'SCT'))

PATIENT = dict(
    PatientName='Müller^Jürgen',
    PatientID='PID-4711',
    PatientBirthDate='19600102',
    PatientSex='M',
    StudyDate='20240301',
    StudyTime='101500',
    AccessionNumber='ACC-123',
    ReferringPhysicianName='Doe^Jane',
    StudyID='S1')

LV_ROW = dict(
    type='LV',
    status='ok',
    unit='cm',
    IVSd='1.0087',
    LVIDd='4.5582',
    LVPWd='0.9536',
    IVSs='1.4792',
    LVIDs='3.0964',
    LVPWs='1.3469',
    AoR='',
    LA='',
    FS='32.070',
    EF='60.317',
    heart_rate_bpm='107.30')
AV_ROW = dict(
    type='AV', status='ok', unit='cm', AoR='2.7683', LA='3.7848',
    heart_rate_bpm='83.60')


def source(sop_class=US_IMAGE, charset='ISO_IR 192', **patient):
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = 'US'
    for k, v in dict(PATIENT, **patient).items():
        setattr(ds, k, v)
    return ds


def code_of(item):
    c = item.ConceptNameCodeSequence[0]
    return c.CodeValue, c.CodingSchemeDesignator


def children(item):
    return list(item.get('ContentSequence', []))


def walk(item):
    for child in children(item):
        yield child
        yield from walk(child)


def num_items(ds):
    """column-free view of every NUM: (code, scheme, meaning) -> item."""
    return {(*code_of(i), i.ConceptNameCodeSequence[0].CodeMeaning): i
            for i in walk(ds) if i.ValueType == 'NUM'}


def modifier(item, name):
    for c in children(item):
        if c.RelationshipType == 'HAS CONCEPT MOD' and code_of(c) == name:
            v = c.ConceptCodeSequence[0]
            return v.CodeValue, v.CodingSchemeDesignator
    return None


def write_read(sr, path):
    import pydicom

    from mmecho.measurement import write_measurement_sr
    write_measurement_sr(str(path), sr)
    return pydicom.dcmread(str(path))


def test_values_units_codes_and_structure_round_trip(tmp_path):
    import highdicom as hd

    from mmecho.measurement import build_measurement_sr
    src = source()
    sr = build_measurement_sr(src, LV_ROW)
    ds = write_read(sr, tmp_path / 'lv.dcm')
    assert ds.SOPClassUID == COMPREHENSIVE_SR and ds.Modality == 'SR'
    assert ds.file_meta.TransferSyntaxUID == '1.2.840.10008.1.2.1'
    # TID 5200 root
    assert ds.ValueType == 'CONTAINER'
    assert code_of(ds) == ('125200', 'DCM')
    tpl = ds.ContentTemplateSequence[0]
    assert (tpl.MappingResource, tpl.TemplateIdentifier) == ('DCMR', '5200')
    assert ds.CompletionFlag == 'COMPLETE'
    assert ds.VerificationFlag == 'UNVERIFIED'
    assert ds.PreliminaryFlag == 'PRELIMINARY'
    nums = num_items(ds)
    expected = {k: v for k, v in CODES.items() if LV_ROW.get(k)}
    assert len(nums) == len(expected) == 9
    for column, (value, scheme, meaning, unit) in expected.items():
        item = nums[(value, scheme, meaning)]
        mv = item.MeasuredValueSequence[0]
        assert float(mv.NumericValue) == float(LV_ROW[column]), column
        u = mv.MeasurementUnitsCodeSequence[0]
        assert (u.CodeValue, u.CodingSchemeDesignator) == (unit, 'UCUM')
        derivation = modifier(item, DERIVATION)
        assert derivation == {
            'FS': CALCULATED,
            'EF': CALCULATED,
            'heart_rate_bpm': MEDIAN
        }.get(column, MEAN), column
        expected_method = TEICHHOLZ if column == 'EF' else None
        assert modifier(item, MEASUREMENT_METHOD) == expected_method
        refs = [c for c in children(item) if c.ValueType == 'IMAGE']
        assert [c.RelationshipType for c in refs] == ['INFERRED FROM']
        ref = refs[0].ReferencedSOPSequence[0]
        assert ref.ReferencedSOPClassUID == src.SOPClassUID
        assert ref.ReferencedSOPInstanceUID == src.SOPInstanceUID
    # one LV Findings section with one M-mode measurement group
    findings = [c for c in children(ds) if code_of(c) == ('121070', 'DCM')]
    assert len(findings) == 1
    assert modifier(findings[0], FINDING_SITE) == LEFT_VENTRICLE
    groups = [c for c in children(findings[0]) if c.ValueType == 'CONTAINER']
    assert [code_of(g) for g in groups] == [('125007', 'DCM')]
    assert modifier(groups[0], IMAGE_MODE) == M_MODE
    # highdicom's reader sees the same values and units
    back = hd.sr.srread(str(tmp_path / 'lv.dcm'))
    assert isinstance(back, hd.sr.ComprehensiveSR)
    found = hd.sr.utils.find_content_items(
        back, value_type=hd.sr.ValueTypeValues.NUM, recursive=True)
    got = {(i.name.value, i.name.scheme_designator): (i.value, i.unit.value)
           for i in found}
    assert got == {(v[0], v[1]): (float(LV_ROW[k]), v[3])
                   for k, v in expected.items()}


def test_av_sections_and_heart_rate_in_the_aorta_section(tmp_path):
    from mmecho.measurement import build_measurement_sr
    ds = write_read(build_measurement_sr(source(), AV_ROW), tmp_path / 'a.dcm')
    sites = {}
    for f in children(ds):
        if code_of(f) == ('121070', 'DCM'):
            sites[modifier(f, FINDING_SITE)] = sorted(
                code_of(i)[0] for i in walk(f) if i.ValueType == 'NUM')
    assert sites == {LEFT_ATRIUM: ['29469-4'], AORTA: ['18015-8', '8867-4']}


def test_patient_study_and_references_copied_from_the_source(tmp_path):
    from mmecho.measurement import build_measurement_sr
    src = source()
    ds = write_read(build_measurement_sr(src, LV_ROW), tmp_path / 'p.dcm')
    assert ds.SpecificCharacterSet == 'ISO_IR 192'
    for keyword in (*PATIENT, 'StudyInstanceUID'):
        assert str(ds[keyword].value) == str(src[keyword].value), keyword
    assert str(ds.PatientName) == 'Müller^Jürgen'
    assert ds.SeriesInstanceUID != src.SeriesInstanceUID
    assert ds.SOPInstanceUID != src.SOPInstanceUID
    evidence = ds.CurrentRequestedProcedureEvidenceSequence
    assert len(evidence) == 1
    assert evidence[0].StudyInstanceUID == src.StudyInstanceUID
    series = evidence[0].ReferencedSeriesSequence
    assert series[0].SeriesInstanceUID == src.SeriesInstanceUID
    ref = series[0].ReferencedSOPSequence[0]
    assert (ref.ReferencedSOPClassUID,
            ref.ReferencedSOPInstanceUID) == (src.SOPClassUID,
                                              src.SOPInstanceUID)
    # the image library lists the source
    library = [c for c in children(ds) if code_of(c) == ('111028', 'DCM')]
    assert len(library) == 1
    image = children(library[0])[0].ReferencedSOPSequence[0]
    assert image.ReferencedSOPInstanceUID == src.SOPInstanceUID
    # the source dataset itself is left as it was
    assert 'PatientAge' not in src and str(src.PatientName) == PATIENT[
        'PatientName']


def test_cjk_name_and_a_source_without_type2_attributes(tmp_path):
    from pydicom.dataset import Dataset

    from mmecho.measurement import build_measurement_sr
    src = source(PatientName='山田^太郎')
    ds = write_read(build_measurement_sr(src, AV_ROW), tmp_path / 'j.dcm')
    assert str(ds.PatientName) == '山田^太郎'
    assert ds.SpecificCharacterSet == 'ISO_IR 192'
    with open(tmp_path / 'j.dcm', 'rb') as f:
        assert '山田^太郎'.encode('utf-8') in f.read()
    # a phantom-like source: only the UIDs and a name; Type 2 stay empty
    bare = Dataset()
    for k in ('SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID',
              'SeriesInstanceUID'):
        setattr(bare, k, src[k].value)
    bare.PatientName = 'PHANTOM^MMECHO'
    ds = write_read(build_measurement_sr(bare, AV_ROW), tmp_path / 'b.dcm')
    assert ds.PatientID == '' and ds.StudyDate == '' and \
        ds.AccessionNumber == ''
    assert 'SpecificCharacterSet' not in ds or ds.SpecificCharacterSet in (
        '', 'ISO_IR 6')


def test_frame_of_a_cine_is_referenced(tmp_path):
    from mmecho.measurement import build_measurement_sr
    src = source(sop_class=US_MULTIFRAME)
    ds = write_read(
        build_measurement_sr(src, LV_ROW, frame_number=3), tmp_path / 'c.dcm')
    refs = [i for i in walk(ds) if i.ValueType == 'IMAGE']
    assert refs and all(
        i.ReferencedSOPSequence[0].ReferencedFrameNumber == 3 for i in refs)
    assert all(i.ReferencedSOPSequence[0].ReferencedSOPClassUID ==
               US_MULTIFRAME for i in refs)


def test_refusals():
    from mmecho.errors import DatasetFormatError
    from mmecho.measurement import build_measurement_sr, sr_problem
    src = source()
    del src.SeriesInstanceUID
    with pytest.raises(DatasetFormatError, match="'SeriesInstanceUID'"):
        build_measurement_sr(src, LV_ROW)
    nothing = dict(type='unknown', status='no structure found', unit='px')
    assert sr_problem(nothing) == 'nothing measured'
    with pytest.raises(ValueError, match='nothing measured'):
        build_measurement_sr(source(), nothing)
    pixels = dict(LV_ROW, unit='px', FS='', EF='', heart_rate_bpm='')
    assert sr_problem(pixels) == 'values in pixels only (no cm calibration)'
    assert sr_problem(LV_ROW) is None


def test_errors_and_warnings_never_quote_patient_data(capsys):
    """An SR that cannot be built says why without the source's values."""
    from mmecho.measurement import build_measurement_sr
    src = source(PatientSex='not a sex code')
    try:
        build_measurement_sr(src, LV_ROW)
    except Exception as e:  # highdicom may refuse it: fine, but quietly
        assert 'Müller' not in str(e)
    out = capsys.readouterr()
    assert 'Müller' not in out.out + out.err


def test_pydicom_strict_reading_of_the_written_sr(tmp_path):
    """Every element of the file is valid for its VR (pydicom's own checks,
    raising instead of warning)."""
    import pydicom
    from pydicom import config

    from mmecho.measurement import build_measurement_sr, write_measurement_sr
    path = str(tmp_path / 'v.dcm')
    write_measurement_sr(path, build_measurement_sr(source(), LV_ROW))
    old = config.settings.reading_validation_mode
    config.settings.reading_validation_mode = config.RAISE
    try:
        ds = pydicom.dcmread(path)
        n = 0
        for elem in ds.iterall():
            elem.value  # noqa: B018 -- converts (and validates) the value
            n += 1
        assert n > 50
    finally:
        config.settings.reading_validation_mode = old


@pytest.mark.skipif(
    shutil.which('dciodvfy') is None,
    reason='dciodvfy (dicom3tools: apt-get install dicom3tools) is not '
    'installed')
@pytest.mark.parametrize('row', [LV_ROW, AV_ROW], ids=['LV', 'AV'])
def test_dciodvfy_validates_the_sr(tmp_path, row):
    from mmecho.measurement import build_measurement_sr, write_measurement_sr
    path = str(tmp_path / 'sr.dcm')
    write_measurement_sr(path, build_measurement_sr(source(), row))
    res = subprocess.run(['dciodvfy', path], capture_output=True, text=True)
    report = res.stdout + res.stderr
    assert 'ComprehensiveSR' in report, report
    assert not [
        line for line in report.splitlines() if line.startswith('Error')
    ], report
    assert res.returncode == 0, report


def test_measurement_package_does_not_import_highdicom():
    code = ('import sys, mmecho.measurement; '
            "print('highdicom' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == 'False'
    assert osp.isfile(osp.join(ROOT, 'mmecho', 'measurement', 'dicom_sr.py'))
