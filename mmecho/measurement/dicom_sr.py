# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM measurements as a DICOM Comprehensive SR (Structured Report).

One SR per measured DICOM input (one per frame row of a cine), built with
highdicom (imported lazily: ``mmecho.measurement`` stays light) on the
content tree of PS3.16 **TID 5200 "Echocardiography Procedure Report"**::

    CONTAINER (125200, DCM, "Adult Echocardiography Procedure Report")  [TID 5200]
    > HAS CONCEPT MOD  CODE (121049, DCM, "Language of Content Item and
                            Descendants") = (en-US, RFC5646)         [TID 1204]
    > HAS OBS CONTEXT  Observer Type = Device, Device Observer UID/Name/
                       Manufacturer/Model                           [TID 1001]
    > CONTAINS CONTAINER (111028, DCM, "Image Library")
      >> CONTAINS IMAGE  the source image (its frame for a cine)
    > CONTAINS CONTAINER (121070, DCM, "Findings")             [TID 5202, one
      >> HAS CONCEPT MOD CODE (363698007, SCT, "Finding Site")  per section]
      >> CONTAINS CONTAINER (125007, DCM, "Measurement Group")
         >>> HAS CONCEPT MOD CODE (399264008, SCT, "Image Mode")
                                   = (399155008, SCT, "M mode")
         >>> CONTAINS NUM <measurement>                      [TID 5203 / 300]
             >>>> HAS CONCEPT MOD CODE (121401, DCM, "Derivation")
                                       = (373098007, SCT, "Mean"); heart
                                       rate (373099004, SCT, "Median"),
                                       FS/EF (258090004, SCT, "Calculated")
             >>>> HAS CONCEPT MOD CODE (370129005, SCT, "Measurement
                                       Method") (EF only: Teichholz)
             >>>> INFERRED FROM IMAGE (121112, DCM, "Source of Measurement")

Sections (TID 5200 rows: $SectionSubject / $MeasType): Left ventricle
(SCT 87878005, CID 12200) holds IVSd, LVIDd, LVPWd, IVSs, LVIDs, LVPWs,
FS, EF and, for an LV image, the heart rate; Left atrium (SCT 82471001,
CID 12205) the LA dimension; Aorta (SCT 15825003, CID 12212) the aortic root
diameter and, for an AV image, the heart rate.

Code table (``MMODE_SR_CODES``; checked against pydicom 3.0.2's copy of the
PS3.16 code and CID dictionaries, ``pydicom.sr._concepts_dict`` /
``_cid_dict``, and the LOINC check digit)::

    column          code     scheme  meaning (PS3.16)                              unit  CID
    IVSd            18154-5  LN  Interventricular Septum Diastolic Thickness       cm   12201
    LVIDd           29436-3  LN  Left Ventricle Internal End Diastolic Dimension   cm   12201
    LVPWd           18152-9  LN  Left Ventricle Posterior Wall Diastolic Thickness cm   12201
    IVSs            18158-6  LN  Interventricular Septum Systolic Thickness        cm   12201
    LVIDs           29438-9  LN  Left Ventricle Internal Systolic Dimension        cm   12201
    LVPWs           18156-0  LN  Left Ventricle Posterior Wall Systolic Thickness  cm   12201
    AoR             18015-8  LN  Aortic Root Diameter                              cm   12212
    LA              29469-4  LN  Left Atrium Antero-posterior Systolic Dimension   cm   12205
    FS              18051-3  LN  Left Ventricular Fractional Shortening            %    12201
    EF              18043-0  LN  Left Ventricular Ejection Fraction by US          %    12200
                    + Measurement Method (125209, DCM, "Teichholz")                     12227
    heart_rate_bpm   8867-4  LN  Heart rate                                        /min 12200, 12212

Codes that differ from the ones first proposed in issue 24: 18154-3,
18152-7, 18158-4 and 18156-8 fail the LOINC check digit (the DICOM codes end
in -5, -9, -6, -0); 17985-3 is "Left Atrium to Aortic Root Ratio", not a
diameter; 10230-1 (LOINC "Left ventricular Ejection fraction") is not in any
echo CID, 18043-0 is the one of CID 12200; SCT 399064001 is "2D mode", M mode
is 399155008. No concept lacks a standard code here. The pre-coordinated
ASE codes of CID 12300 (e.g. 18049-7 "Left ventricular ejection fraction
(Teichholz) MM", TID 5300) are not used: TID 5200 post-coordinates the image
mode and the method, as above. Units are UCUM (cm, %, /min).

What is reported: the values of the measurements.csv row (the mean over the
complete cycles, as there), linear values only in cm.
The SR is PRELIMINARY and UNVERIFIED (a machine measurement), COMPLETE only
when the row's status is ``ok``.

Patient and study: the SR takes the Patient and General Study modules of the
source (highdicom copies them from the evidence: name, ID, birth date, sex,
study UID, date, time, ID, accession number, referring physician) and its
Specific Character Set, so it files into the same study. These values go
into the SR file only: no function here returns, logs or raises them
(highdicom's log records and warnings are held back while an SR is built,
errors are reported by type only).
"""
import copy
import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from mmecho.errors import DatasetFormatError

#: (value, scheme designator, meaning)
Concept = Tuple[str, str, str]

CM: Concept = ('cm', 'UCUM', 'cm')
PERCENT: Concept = ('%', 'UCUM', 'Percent')
PER_MINUTE: Concept = ('/min', 'UCUM', '/min')

REPORT_TITLE: Concept = ('125200', 'DCM',
                         'Adult Echocardiography Procedure Report')
FINDINGS: Concept = ('121070', 'DCM', 'Findings')
FINDING_SITE: Concept = ('363698007', 'SCT', 'Finding Site')
MEASUREMENT_GROUP: Concept = ('125007', 'DCM', 'Measurement Group')
IMAGE_MODE: Concept = ('399264008', 'SCT', 'Image Mode')
M_MODE: Concept = ('399155008', 'SCT', 'M mode')
DERIVATION: Concept = ('121401', 'DCM', 'Derivation')
MEAN: Concept = ('373098007', 'SCT', 'Mean')
MEDIAN: Concept = ('373099004', 'SCT', 'Median')
CALCULATED: Concept = ('258090004', 'SCT', 'Calculated')
MEASUREMENT_METHOD: Concept = ('370129005', 'SCT', 'Measurement Method')
TEICHHOLZ: Concept = ('125209', 'DCM', 'Teichholz')
IMAGE_LIBRARY: Concept = ('111028', 'DCM', 'Image Library')
SOURCE_OF_MEASUREMENT: Concept = ('121112', 'DCM', 'Source of Measurement')
LANGUAGE: Concept = ('en-US', 'RFC5646', 'English (United States)')

#: section -> its Finding Site ($SectionSubject of TID 5200)
SECTIONS = {
    'LV': ('87878005', 'SCT', 'Left ventricle'),
    'LA': ('82471001', 'SCT', 'Left atrium'),
    'Aorta': ('15825003', 'SCT', 'Aorta'),
}

#: SeriesNumber of the SR series (one per source study)
SR_SERIES_NUMBER = 9100
DEVICE_NAME = 'mmecho AMEM'


@dataclass(frozen=True)
class SRMeasurementCode:
    """One measurement of the SR: its measurements.csv column, concept,
    UCUM unit, section, derivation (CID 3627: Mean over the cycles, Median
    for the heart rate, Calculated for FS/EF) and (EF) measurement method."""
    column: str
    concept: Concept
    unit: Concept
    section: str
    derivation: Concept = MEAN
    method: Optional[Concept] = None


MMODE_SR_CODES = (
    SRMeasurementCode(
        'IVSd', ('18154-5', 'LN',
                 'Interventricular Septum Diastolic Thickness'), CM, 'LV'),
    SRMeasurementCode(
        'LVIDd',
        ('29436-3', 'LN', 'Left Ventricle Internal End Diastolic Dimension'),
        CM, 'LV'),
    SRMeasurementCode(
        'LVPWd',
        ('18152-9', 'LN', 'Left Ventricle Posterior Wall Diastolic Thickness'),
        CM, 'LV'),
    SRMeasurementCode(
        'IVSs', ('18158-6', 'LN',
                 'Interventricular Septum Systolic Thickness'), CM, 'LV'),
    SRMeasurementCode(
        'LVIDs',
        ('29438-9', 'LN', 'Left Ventricle Internal Systolic Dimension'), CM,
        'LV'),
    SRMeasurementCode(
        'LVPWs',
        ('18156-0', 'LN', 'Left Ventricle Posterior Wall Systolic Thickness'),
        CM, 'LV'),
    SRMeasurementCode('FS', ('18051-3', 'LN',
                             'Left Ventricular Fractional Shortening'),
                      PERCENT, 'LV', CALCULATED),
    SRMeasurementCode(
        'EF', ('18043-0', 'LN', 'Left Ventricular Ejection Fraction by US'),
        PERCENT, 'LV', CALCULATED, TEICHHOLZ),
    SRMeasurementCode(
        'LA', ('29469-4', 'LN',
               'Left Atrium Antero-posterior Systolic Dimension'), CM, 'LA'),
    SRMeasurementCode('AoR', ('18015-8', 'LN', 'Aortic Root Diameter'), CM,
                      'Aorta'),
    # its section is the image type's (LV or Aorta), see _section_of
    SRMeasurementCode('heart_rate_bpm', ('8867-4', 'LN', 'Heart rate'),
                      PER_MINUTE, 'LV', MEDIAN),
)
LINEAR = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA')
#: the attributes the SR needs from its source (Type 1 there)
SOURCE_UIDS = ('SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID',
               'SeriesInstanceUID')
#: Patient / General Study attributes highdicom reads from the evidence
#: (Type 2 in the SR: empty when the source lacks them)
_TYPE2 = ('PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex',
          'AccessionNumber', 'StudyID', 'StudyDate', 'StudyTime',
          'ReferringPhysicianName')


def _row(measurement) -> Mapping:
    """A measurements.csv row (``MModeMeasurement.as_row()`` or a row)."""
    if isinstance(measurement, Mapping):
        return measurement
    return measurement.as_row()


def measurement_values(measurement) -> dict:
    """column -> float of what the SR reports: the values of the row that
    are there, linear ones only when the row is in cm."""
    row = _row(measurement)
    values = {}
    for m in MMODE_SR_CODES:
        text = str(row.get(m.column, '') or '').strip()
        if not text or (m.column in LINEAR and row.get('unit') != 'cm'):
            continue
        try:
            values[m.column] = float(text)
        except ValueError:
            continue
    return values


def sr_problem(measurement) -> Optional[str]:
    """Why no SR can be made of a row (None when one can)."""
    row = _row(measurement)
    if measurement_values(row):
        return None
    if row.get('status') == 'ok' and row.get('unit') == 'px':
        return 'values in pixels only (no cm calibration)'
    return 'nothing measured'


def read_sr_source(path: str):
    """The header of the DICOM file an SR refers to (no pixels).

    Raises:
        DatasetFormatError: the file cannot be parsed, or it lacks one of
            ``SOURCE_UIDS`` (named as the field).
    """
    import pydicom
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    except Exception as e:  # pydicom raises many types on bad headers
        raise DatasetFormatError(
            path, f'cannot parse the DICOM header ({type(e).__name__})') \
            from e
    check_sr_source(ds, path)
    return ds


def check_sr_source(ds, path: str = '<dataset>') -> None:
    """Raise :class:`DatasetFormatError` when ``ds`` lacks a UID that an SR
    needs to refer to it."""
    for keyword in SOURCE_UIDS:
        if not str(ds.get(keyword, '') or '').strip():
            raise DatasetFormatError(
                path,
                'missing (an SR refers to its source by this UID)',
                field=keyword)


@contextmanager
def quiet():
    """Hold back highdicom's and pydicom's log records and every warning
    (pydicom's value checks quote the values, e.g. a patient name) while an
    SR is built or written."""
    loggers = [logging.getLogger(n) for n in ('highdicom', 'pydicom')]
    disabled = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        for lg, d in zip(loggers, disabled):
            lg.disabled = d


def _section_of(code: SRMeasurementCode, image_type: str) -> str:
    if code.column == 'heart_rate_bpm' and image_type == 'AV':
        return 'Aorta'
    return code.section


def build_measurement_sr(source_dataset,
                         measurement,
                         frame_number: Optional[int] = None,
                         sop_instance_uid: Optional[str] = None,
                         series_instance_uid: Optional[str] = None,
                         series_number: int = SR_SERIES_NUMBER,
                         instance_number: int = 1,
                         software_versions: Optional[str] = None):
    """The Comprehensive SR (TID 5200) of one measurement.

    Args:
        source_dataset (pydicom.Dataset): the measured DICOM file's header
            (:func:`read_sr_source`): referenced by the SR, which takes its
            patient and study.
        measurement: an :class:`MModeMeasurement` or its measurements.csv
            row (the values written are the row's).
        frame_number (int, optional): the measured frame (1-based) of a
            multi-frame source; referenced as ReferencedFrameNumber.
        sop_instance_uid, series_instance_uid (str, optional): default: a
            new UID; the series of the SRs of one study is derived from the
            study UID (one SR series per study).
        series_number, instance_number (int): of the SR.
        software_versions (str, optional): default mmecho's version.

    Returns:
        highdicom.sr.ComprehensiveSR: a pydicom Dataset.

    Raises:
        DatasetFormatError: ``source_dataset`` lacks a UID (the field).
        ValueError: nothing to report (:func:`sr_problem`).
    """
    import highdicom as hd
    from pydicom.uid import generate_uid
    check_sr_source(source_dataset)
    row = _row(measurement)
    values = measurement_values(row)
    if not values:
        raise ValueError(f'no SR: {sr_problem(row)}')
    if software_versions is None:
        from mmecho.version import __version__
        software_versions = f'mmecho {__version__}'

    def concept(c):
        return hd.sr.CodedConcept(value=c[0], scheme_designator=c[1],
                                  meaning=c[2])

    rel = hd.sr.RelationshipTypeValues
    frames = None if frame_number is None else [int(frame_number)]
    src_class = str(source_dataset.SOPClassUID)
    src_uid = str(source_dataset.SOPInstanceUID)

    def source_image(name, relationship):
        return hd.sr.ImageContentItem(
            name=concept(name),
            referenced_sop_class_uid=src_class,
            referenced_sop_instance_uid=src_uid,
            referenced_frame_numbers=frames,
            relationship_type=relationship)

    def num_item(code, value):
        item = hd.sr.NumContentItem(
            name=concept(code.concept),
            value=value,
            unit=concept(code.unit),
            relationship_type=rel.CONTAINS)
        children = [
            hd.sr.CodeContentItem(
                name=concept(DERIVATION),
                value=concept(code.derivation),
                relationship_type=rel.HAS_CONCEPT_MOD)
        ]
        if code.method is not None:
            children.append(
                hd.sr.CodeContentItem(
                    name=concept(MEASUREMENT_METHOD),
                    value=concept(code.method),
                    relationship_type=rel.HAS_CONCEPT_MOD))
        children.append(
            source_image(SOURCE_OF_MEASUREMENT, rel.INFERRED_FROM))
        item.ContentSequence = hd.sr.ContentSequence(children)
        return item

    image_type = row.get('type', '')
    by_section = {}
    for code in MMODE_SR_CODES:
        if code.column in values:
            by_section.setdefault(_section_of(code, image_type), []).append(
                num_item(code, values[code.column]))

    with quiet():
        device = hd.sr.ObserverContext(
            observer_type=hd.sr.CodedConcept(
                value='121007', scheme_designator='DCM', meaning='Device'),
            observer_identifying_attributes=hd.sr.
            DeviceObserverIdentifyingAttributes(
                uid=generate_uid(entropy_srcs=['mmecho', 'AMEM', 'device']),
                name=DEVICE_NAME,
                manufacturer_name='mmecho',
                model_name='AMEM'))
        root = hd.sr.ContainerContentItem(
            name=concept(REPORT_TITLE), template_id='5200')
        content = list(
            hd.sr.LanguageOfContentItemAndDescendants(concept(LANGUAGE)))
        content += list(hd.sr.ObservationContext(
            observer_device_context=device))
        library = hd.sr.ContainerContentItem(
            name=concept(IMAGE_LIBRARY), relationship_type=rel.CONTAINS)
        entry = hd.sr.ImageContentItem(
            name=concept(SOURCE_OF_MEASUREMENT),
            referenced_sop_class_uid=src_class,
            referenced_sop_instance_uid=src_uid,
            referenced_frame_numbers=frames,
            relationship_type=rel.CONTAINS)
        library.ContentSequence = hd.sr.ContentSequence([entry])
        content.append(library)
        for section in ('LV', 'LA', 'Aorta'):
            if section not in by_section:
                continue
            findings = hd.sr.ContainerContentItem(
                name=concept(FINDINGS), relationship_type=rel.CONTAINS)
            group = hd.sr.ContainerContentItem(
                name=concept(MEASUREMENT_GROUP),
                relationship_type=rel.CONTAINS)
            group.ContentSequence = hd.sr.ContentSequence([
                hd.sr.CodeContentItem(
                    name=concept(IMAGE_MODE),
                    value=concept(M_MODE),
                    relationship_type=rel.HAS_CONCEPT_MOD)
            ] + by_section[section])
            findings.ContentSequence = hd.sr.ContentSequence([
                hd.sr.CodeContentItem(
                    name=concept(FINDING_SITE),
                    value=concept(SECTIONS[section]),
                    relationship_type=rel.HAS_CONCEPT_MOD), group
            ])
            content.append(findings)
        root.ContentSequence = hd.sr.ContentSequence(content)

        evidence = copy.copy(source_dataset)  # shallow: the source stays
        for keyword in _TYPE2:
            if keyword not in evidence:
                setattr(evidence, keyword, None)
        study = str(source_dataset.StudyInstanceUID)
        sr = hd.sr.ComprehensiveSR(
            evidence=[evidence],
            content=root,
            series_instance_uid=series_instance_uid or generate_uid(
                entropy_srcs=['mmecho', 'AMEM SR series', study]),
            series_number=series_number,
            sop_instance_uid=sop_instance_uid or generate_uid(),
            instance_number=instance_number,
            manufacturer='mmecho',
            is_complete=row.get('status') == 'ok',
            is_final=False,
            is_verified=False,
            series_description='AMEM M-mode measurements',
            manufacturer_model_name='AMEM',
            software_versions=software_versions)
    return sr


def write_measurement_sr(path: str, sr) -> str:
    """Write ``sr`` as a DICOM file (Part 10), atomically."""
    from mmecho.utils import atomic_write
    with quiet(), atomic_write(path, mode=None) as tmp:
        sr.save_as(tmp, enforce_file_format=True)
    return path


__all__ = [
    'MMODE_SR_CODES', 'SRMeasurementCode', 'SECTIONS', 'M_MODE', 'TEICHHOLZ',
    'build_measurement_sr', 'write_measurement_sr', 'read_sr_source',
    'check_sr_source', 'measurement_values', 'sr_problem'
]
