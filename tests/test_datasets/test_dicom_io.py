"""Ultrasound DICOM reading and writing (mmecho.datasets.io.dicom)."""
import inspect

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from mmecho.datasets.io import (DatasetFormatError, UltrasoundRegion, is_dicom,
                                read_dicom, write_us_dicom)
from mmecho.datasets.io.dicom import (JPEG_BASELINE, US_IMAGE_STORAGE,
                                      US_MULTIFRAME_IMAGE_STORAGE)

MMODE = UltrasoundRegion(
    spatial_format=2,
    data_type=1,
    x0=10,
    y0=20,
    x1=109,
    y1=69,
    units_x=4,
    units_y=3,
    delta_x=0.004,
    delta_y=0.0375)
SECTOR = UltrasoundRegion(1, 1, 0, 0, 59, 15, 3, 3, 0.05, 0.05)


def frames(n, h=80, w=120, seed=0):
    """Smooth random BGR frames (JPEG keeps them within a few levels)."""
    import cv2
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        out.append(cv2.GaussianBlur(f, (0, 0), 3))
    return out


@pytest.mark.parametrize('compress', [None, 'jpeg'])
@pytest.mark.parametrize('n', [1, 3])
def test_round_trip(tmp_path, compress, n):
    src = frames(n)
    path = str(tmp_path / f'cap_{n}.dcm')
    write_us_dicom(
        path, src, [SECTOR, MMODE], compress=compress, frame_time_ms=20.0)
    assert is_dicom(path)
    dcm = read_dicom(path)
    assert (dcm.rows, dcm.columns, dcm.n_frames) == (80, 120, n)
    assert dcm.frame_time_s == (pytest.approx(0.02) if n > 1 else None)
    assert dcm.regions == [SECTOR, MMODE]
    assert dcm.mmode_region == MMODE
    it = dcm.iter_frames()
    assert inspect.isgenerator(it)  # streamed, one frame at a time
    got = list(it)
    assert len(got) == n
    for a, b in zip(got, src):
        assert a.shape == (80, 120, 3) and a.dtype == np.uint8
        err = np.abs(a.astype(int) - b).mean()
        assert err == 0 if compress is None else err < 3, err
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == (
        US_MULTIFRAME_IMAGE_STORAGE if n > 1 else US_IMAGE_STORAGE)
    assert ds.SOPInstanceUID == dcm.sop_instance_uid
    assert str(ds.PatientName) == 'PHANTOM^MMECHO'
    if compress:
        assert ds.file_meta.TransferSyntaxUID == JPEG_BASELINE
        assert ds.PhotometricInterpretation == 'YBR_FULL_422'
    else:
        assert ds.PhotometricInterpretation == 'RGB'
    # nothing of the patient is kept or shown
    assert 'PHANTOM' not in repr(dcm)


def test_uids_are_reproducible_and_gray_frames(tmp_path):
    gray = frames(1)[0][..., 0]
    a = write_us_dicom(str(tmp_path / 'a' / 'x.dcm'), gray)
    b = write_us_dicom(str(tmp_path / 'b' / 'x.dcm'), gray)
    c = write_us_dicom(str(tmp_path / 'b' / 'y.dcm'), gray)
    uid = [read_dicom(p).sop_instance_uid for p in (a, b, c)]
    assert uid[0] == uid[1] != uid[2]
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        assert fa.read() == fb.read()
    frame = read_dicom(a).read_frame(0)
    assert (frame == gray[..., None]).all()


def _pydicom_file(path,
                  rows=100,
                  cols=200,
                  regions=(),
                  bits=8,
                  pixels=True,
                  n_frames=None):
    """A MONOCHROME2 US file built with pydicom's own API."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = US_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'US'
    ds.PatientName = 'DOE^JANE'
    ds.PatientID = 'SECRET-ID-42'
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if n_frames:
        ds.NumberOfFrames = n_frames
    items = []
    for values in regions:
        item = Dataset()
        for k, v in values.items():
            setattr(item, k, v)
        items.append(item)
    if items:
        ds.SequenceOfUltrasoundRegions = Sequence(items)
    if pixels:
        dtype = np.uint8 if bits == 8 else np.uint16
        img = (np.arange(rows * cols * (n_frames or 1)) % 251).astype(dtype)
        ds.PixelData = img.tobytes()
        ds['PixelData'].VR = 'OB' if bits == 8 else 'OW'
    ds.save_as(path, enforce_file_format=True)
    return path


def _region(**over):
    values = dict(
        RegionSpatialFormat=2,
        RegionDataType=1,
        RegionFlags=0,
        RegionLocationMinX0=30,
        RegionLocationMinY0=12,
        RegionLocationMaxX1=189,
        RegionLocationMaxY1=91,
        PhysicalUnitsXDirection=4,
        PhysicalUnitsYDirection=3,
        PhysicalDeltaX=0.005,
        PhysicalDeltaY=0.041,
        ReferencePixelX0=30,
        ReferencePixelY0=12,
        ReferencePixelPhysicalValueX=0.0,
        ReferencePixelPhysicalValueY=0.0)
    values.update(over)
    return values


def test_reader_on_a_file_built_with_pydicom(tmp_path):
    spectral = _region(
        RegionSpatialFormat=3,
        PhysicalUnitsYDirection=7,
        PhysicalDeltaY=-2.5,
        RegionLocationMaxY1=20)
    path = _pydicom_file(
        str(tmp_path / 'plain.dcm'), regions=[spectral, _region()])
    dcm = read_dicom(path)
    assert [r.spatial_format for r in dcm.regions] == [3, 2]
    r = dcm.mmode_region
    assert r.cm_per_px == pytest.approx(0.041)
    assert r.s_per_px == pytest.approx(0.005)
    assert r.strip == (12, 92, 30, 190)  # half-open from inclusive bounds
    assert (r.ref_x0, r.ref_value_y) == (30, 0.0)
    # a velocity axis is no depth: no cm per pixel from it
    assert dcm.regions[0].cm_per_px is None
    frame = next(dcm.iter_frames())
    expected = (np.arange(100 * 200) % 251).reshape(100, 200)
    assert frame.shape == (100, 200, 3) and (frame == expected[...,
                                                               None]).all()
    text = repr(dcm) + ''.join(repr(r) for r in dcm.regions)
    assert 'DOE' not in text and 'SECRET' not in text


@pytest.mark.parametrize(
    'over, field', [(dict(RegionLocationMaxX1=200), 'RegionLocationMaxX1'),
                    (dict(RegionLocationMaxY1=100), 'RegionLocationMaxY1'),
                    (dict(RegionLocationMinY0=95), 'RegionLocationMaxY1'),
                    (dict(PhysicalDeltaY=0.0), 'PhysicalDeltaY'),
                    (dict(PhysicalDeltaX=0.0), 'PhysicalDeltaX')])
def test_bad_regions_name_file_and_field(tmp_path, over, field):
    path = _pydicom_file(str(tmp_path / 'bad.dcm'), regions=[_region(**over)])
    with pytest.raises(DatasetFormatError) as e:
        read_dicom(path)
    assert e.value.path == path and e.value.field == field
    assert 'DOE' not in str(e.value)


def test_writer_refuses_a_region_outside_the_image(tmp_path):
    bad = UltrasoundRegion(2, 1, 0, 0, 120, 10, 4, 3, 0.004, 0.03)
    with pytest.raises(DatasetFormatError, match='RegionLocationMaxX1'):
        write_us_dicom(str(tmp_path / 'w.dcm'), frames(1), [bad])
    assert not list(tmp_path.iterdir())


def test_hostile_files_give_dataset_format_errors(tmp_path):
    text = tmp_path / 'notes.dcm'
    text.write_text('this is not an image\n' * 20)
    with pytest.raises(DatasetFormatError, match='notes.dcm.*DICM'):
        read_dicom(str(text))
    assert not is_dicom(str(text))
    tiny = tmp_path / 'tiny.dcm'
    tiny.write_bytes(b'\0' * 10)
    with pytest.raises(DatasetFormatError, match='tiny.dcm'):
        read_dicom(str(tiny))
    with pytest.raises(DatasetFormatError, match='missing.dcm'):
        read_dicom(str(tmp_path / 'missing.dcm'))
    # no pixels, 16-bit pixels
    path = _pydicom_file(str(tmp_path / 'nopix.dcm'), pixels=False)
    with pytest.raises(DatasetFormatError) as e:
        read_dicom(path)
    assert e.value.field == 'PixelData' and 'nopix.dcm' in str(e.value)
    path = _pydicom_file(str(tmp_path / 'deep.dcm'), bits=16)
    with pytest.raises(DatasetFormatError) as e:
        read_dicom(path)
    assert e.value.field == 'BitsAllocated'


@pytest.mark.parametrize('compress', [None, 'jpeg'])
def test_truncated_files(tmp_path, compress):
    path = str(tmp_path / 'cine.dcm')
    write_us_dicom(path, frames(4), [MMODE], compress=compress)
    data = open(path, 'rb').read()
    # cut inside the last frame: the first frames still come out, then an
    # error naming the file and PixelData
    cut = tmp_path / 'cut.dcm'
    cut.write_bytes(data[:len(data) - 2000])
    dcm = read_dicom(str(cut))
    got = []
    with pytest.raises(DatasetFormatError) as e:
        for f in dcm.iter_frames():
            got.append(f)
    assert e.value.field == 'PixelData' and 'cut.dcm' in str(e.value)
    assert 1 <= len(got) < 4
    # cut inside the header
    head = tmp_path / 'head.dcm'
    head.write_bytes(data[:300])
    with pytest.raises(DatasetFormatError, match='head.dcm'):
        read_dicom(str(head))
    # a multi-frame file that says it holds more frames than it does
    short = _pydicom_file(str(tmp_path / 'short.dcm'), n_frames=2)
    ds = pydicom.dcmread(short)
    ds.NumberOfFrames = 3
    ds.save_as(short)
    dcm = read_dicom(short)
    with pytest.raises(DatasetFormatError, match='short.dcm'):
        list(dcm.iter_frames())
