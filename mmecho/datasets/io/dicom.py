# Copyright (c) mmecho contributors. All rights reserved.
"""Ultrasound DICOM: reading captures (one frame or a cine) with their
calibration, and writing them (used for phantoms and tests).

The calibration lives in the *Sequence of Ultrasound Regions* (0018,6011),
one item per region of the screen: its spatial format (1 = 2D, 2 = M-mode,
3 = spectral, 4 = waveform), its inclusive pixel bounds and, per axis, the
physical units (3 = cm, 4 = seconds) and the physical size of one pixel.
In an M-mode region the y axis is depth (cm) and the x axis time (s).

Frames are returned as OpenCV images: ``(H, W, 3)`` uint8, BGR. Multi-frame
files are decoded one frame at a time (:meth:`DicomImage.iter_frames`), so a
long cine never sits in memory as a whole.

Privacy: only the attributes listed in :class:`DicomImage` are kept; patient
attributes (PatientName, PatientID, ...) are never read out, copied or put in
an error message. Errors name the file and the DICOM keyword.
"""
import os.path as osp
import re
import struct
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmecho.errors import DatasetFormatError

US_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.6.1'
US_MULTIFRAME_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.3.1'
EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
JPEG_BASELINE = '1.2.840.10008.1.2.4.50'

SPATIAL_FORMATS = {
    0: 'none',
    1: '2D',
    2: 'M-mode',
    3: 'spectral',
    4: 'waveform',
    5: 'graphics'
}
UNITS_CM, UNITS_SECONDS = 3, 4
DICOM_EXTENSIONS = ('.dcm', '.dicom')
_SUPPORTED_PHOTOMETRIC = ('MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL',
                          'YBR_FULL_422')
_PIXEL_DATA_TAG = (0x7FE0, 0x0010)


@dataclass
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions.

    Attributes:
        spatial_format (int): RegionSpatialFormat (2 = M-mode).
        data_type (int): RegionDataType (1 = tissue, ...).
        x0, y0, x1, y1 (int): RegionLocationMinX0/MinY0/MaxX1/MaxY1, pixel
            bounds, both ends inclusive (as in DICOM).
        units_x, units_y (int): PhysicalUnitsX/YDirection (3 = cm,
            4 = seconds, 0 = none).
        delta_x, delta_y (float): PhysicalDeltaX/Y, physical units per
            pixel (may be negative, e.g. velocity upwards in a spectrum).
        ref_x0, ref_y0 (int, optional): ReferencePixelX0/Y0.
        ref_value_x, ref_value_y (float, optional):
            ReferencePixelPhysicalValueX/Y.
    """
    spatial_format: int
    data_type: int
    x0: int
    y0: int
    x1: int
    y1: int
    units_x: int
    units_y: int
    delta_x: float
    delta_y: float
    ref_x0: Optional[int] = None
    ref_y0: Optional[int] = None
    ref_value_x: Optional[float] = None
    ref_value_y: Optional[float] = None

    @property
    def strip(self) -> Tuple[int, int, int, int]:
        """``(top, bottom, left, right)``: half-open pixel ranges (the
        convention of :func:`mmecho.measurement.find_mmode_strip`)."""
        return self.y0, self.y1 + 1, self.x0, self.x1 + 1

    @property
    def cm_per_px(self) -> Optional[float]:
        """Depth per pixel row in cm, when the y axis is in cm."""
        return abs(float(self.delta_y)) if self.units_y == UNITS_CM else None

    @property
    def s_per_px(self) -> Optional[float]:
        """Time per pixel column in seconds, when the x axis is time."""
        if self.units_x != UNITS_SECONDS:
            return None
        return abs(float(self.delta_x))

    def validate(self, path: str, rows: int, columns: int) -> None:
        """Raise :class:`DatasetFormatError` naming ``path`` and the keyword
        when the bounds leave a ``rows`` x ``columns`` image or a physical
        axis has a zero (or non-finite) pixel size."""
        bounds = [
            ('RegionLocationMinX0', self.x0, columns),
            ('RegionLocationMaxX1', self.x1, columns),
            ('RegionLocationMinY0', self.y0, rows),
            ('RegionLocationMaxY1', self.y1, rows),
        ]
        for keyword, value, size in bounds:
            if not 0 <= value < size:
                raise DatasetFormatError(
                    path, f'region bound {value} lies outside the '
                    f'{columns}x{rows} image (expected 0..{size - 1})',
                    field=keyword)
        if self.x1 < self.x0:
            raise DatasetFormatError(
                path,
                f'MaxX1 {self.x1} < MinX0 {self.x0}',
                field='RegionLocationMaxX1')
        if self.y1 < self.y0:
            raise DatasetFormatError(
                path,
                f'MaxY1 {self.y1} < MinY0 {self.y0}',
                field='RegionLocationMaxY1')
        for keyword, units, delta in (('PhysicalDeltaX', self.units_x,
                                       self.delta_x),
                                      ('PhysicalDeltaY', self.units_y,
                                       self.delta_y)):
            if units != 0 and not (np.isfinite(delta) and delta != 0):
                raise DatasetFormatError(
                    path, f'expected a non-zero physical size per pixel, '
                    f'got {delta!r}',
                    field=keyword)


@dataclass
class DicomImage:
    """An ultrasound DICOM file: geometry, calibration, frames on demand.

    Attributes:
        path (str): the file.
        rows, columns (int): frame height and width in pixels.
        n_frames (int): NumberOfFrames (1 when absent).
        frame_time_s (float, optional): time between frames in seconds
            (FrameTime, else 1 / CineRate); None when unknown.
        sop_instance_uid (str, optional): SOPInstanceUID.
        photometric (str): PhotometricInterpretation.
        transfer_syntax (str): TransferSyntaxUID.
        regions (list[UltrasoundRegion]): the Sequence of Ultrasound
            Regions (empty when absent).
        heart_rate_bpm (int, optional): Heart Rate (0018,1088), beats per
            minute, as the scanner recorded it; None when absent, empty or
            malformed.
        heart_rate_problem (str, optional): why a Heart Rate that is there
            cannot be used (see :func:`read_heart_rate`); None otherwise.
            A malformed Heart Rate never makes the file unreadable.
    """
    path: str
    rows: int
    columns: int
    n_frames: int
    photometric: str
    transfer_syntax: str
    frame_time_s: Optional[float] = None
    sop_instance_uid: Optional[str] = None
    regions: List[UltrasoundRegion] = field(default_factory=list)
    heart_rate_bpm: Optional[int] = None
    heart_rate_problem: Optional[str] = None

    @property
    def mmode_region(self) -> Optional[UltrasoundRegion]:
        """The first region with spatial format 2 (M-mode), or None."""
        return next((r for r in self.regions if r.spatial_format == 2), None)

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield the frames one at a time, ``(rows, columns, 3)`` uint8 BGR.

        Raises:
            DatasetFormatError: (field 'PixelData') a frame cannot be decoded
                or the file holds fewer frames than NumberOfFrames; the frames
                decoded before that have been yielded.
        """
        import cv2
        from pydicom.pixels import iter_pixels
        decoded = 0
        it = iter_pixels(self.path, as_rgb=True)
        while True:
            try:
                arr = next(it)
            except StopIteration:
                break
            except Exception as e:  # pydicom raises many types here
                raise DatasetFormatError(
                    self.path, f'frame {decoded} of {self.n_frames} cannot '
                    f'be decoded ({type(e).__name__}: {e})',
                    field='PixelData') from e
            arr = np.asarray(arr)
            if arr.ndim == 2:
                if self.photometric == 'MONOCHROME1':
                    arr = 255 - arr
                frame = cv2.cvtColor(arr.astype(np.uint8), cv2.COLOR_GRAY2BGR)
            elif arr.ndim == 3 and arr.shape[-1] == 3:
                frame = np.ascontiguousarray(arr[..., ::-1], dtype=np.uint8)
            else:
                raise DatasetFormatError(
                    self.path, f'decoded frame has shape {arr.shape}, '
                    f'expected ({self.rows}, {self.columns}[, 3])',
                    field='PixelData')
            if frame.shape[:2] != (self.rows, self.columns):
                raise DatasetFormatError(
                    self.path, f'decoded frame is {frame.shape[1]}x'
                    f'{frame.shape[0]}, Columns x Rows say '
                    f'{self.columns}x{self.rows}',
                    field='PixelData')
            decoded += 1
            yield frame
            if decoded == self.n_frames:
                break
        if decoded < self.n_frames:
            raise DatasetFormatError(
                self.path, f'only {decoded} of {self.n_frames} frames '
                'could be decoded (truncated file?)',
                field='PixelData')

    def read_frame(self, index: int = 0) -> np.ndarray:
        """One frame (decodes the frames before it)."""
        if not 0 <= index < self.n_frames:
            raise IndexError(f'{self.path}: frame {index} of {self.n_frames}')
        for i, frame in enumerate(self.iter_frames()):
            if i == index:
                return frame
        raise AssertionError('unreachable')  # iter_frames raises first


def is_dicom(path: str) -> bool:
    """True when ``path`` is a DICOM file: the 'DICM' marker at byte 128
    (DICOM Part 10). Unreadable files are not DICOM."""
    try:
        with open(path, 'rb') as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b'DICM'


def _get(path, ds, keyword, cast=None, required=True):
    value = getattr(ds, keyword, None)
    if value is None or value == '':
        if required:
            raise DatasetFormatError(path, 'missing', field=keyword)
        return None
    if cast is None:
        return value
    try:
        return cast(value)
    except (TypeError, ValueError):
        raise DatasetFormatError(
            path, f'expected a number, got {value!r}', field=keyword)


HEART_RATE_TAG = 0x00181088  # (0018,1088) Heart Rate, IS, beats per minute
MAX_HEART_RATE = 400  # beats per minute; above is not a heart rate


def read_heart_rate(ds) -> Tuple[Optional[int], Optional[str]]:
    """(beats per minute, problem) of a dataset's Heart Rate (0018,1088).

    The value is read from the element's own bytes (pydicom would raise or
    warn on a malformed IS): ASCII, one integer string (IS) of 1 to
    ``MAX_HEART_RATE``. Absent or empty gives ``(None, None)``; anything
    else that is not such a value gives ``(None, why)``, naming the field,
    what was expected and (cut to 16 characters) what was found.
    """
    where = "field 'HeartRate' (0018,1088)"
    expected = ('expected a positive integer string (IS, beats per minute, '
                f'1-{MAX_HEART_RATE})')
    try:
        elem = ds.get_item(HEART_RATE_TAG)
        value = None if elem is None else elem.value
    except Exception as e:  # a header pydicom cannot convert
        return None, f'{where}: cannot be read ({type(e).__name__})'
    if value is None:
        return None, None
    if isinstance(value, (bytes, bytearray)):
        try:
            text = bytes(value).decode('ascii')
        except UnicodeDecodeError:
            return None, f'{where}: {expected}, got non-ASCII bytes'
    elif isinstance(value, (list, tuple)) or type(value).__name__ == \
            'MultiValue':
        text = '\\'.join(str(v) for v in value)
    else:
        text = str(value)
    text = text.strip(' \x00')
    if not text:
        return None, None
    shown = repr(text[:16] + ('...' if len(text) > 16 else ''))
    if not re.fullmatch(r'[+-]?[0-9]{1,12}', text):
        return None, f'{where}: {expected}, got {shown}'
    bpm = int(text)
    if not 1 <= bpm <= MAX_HEART_RATE:
        return None, f'{where}: {expected}, got {shown}'
    return bpm, None


def _read_region(path, item) -> UltrasoundRegion:

    def g(keyword, cast=int, required=True):
        return _get(path, item, keyword, cast, required)

    return UltrasoundRegion(
        spatial_format=g('RegionSpatialFormat'),
        data_type=g('RegionDataType'),
        x0=g('RegionLocationMinX0'),
        y0=g('RegionLocationMinY0'),
        x1=g('RegionLocationMaxX1'),
        y1=g('RegionLocationMaxY1'),
        units_x=g('PhysicalUnitsXDirection'),
        units_y=g('PhysicalUnitsYDirection'),
        delta_x=g('PhysicalDeltaX', float),
        delta_y=g('PhysicalDeltaY', float),
        ref_x0=g('ReferencePixelX0', int, False),
        ref_y0=g('ReferencePixelY0', int, False),
        ref_value_x=g('ReferencePixelPhysicalValueX', float, False),
        ref_value_y=g('ReferencePixelPhysicalValueY', float, False))


def read_dicom(path: str) -> DicomImage:
    """Read the header of an ultrasound DICOM file (pixels stay on disk).

    Supports 8-bit unsigned pixels, MONOCHROME1/2, RGB and YBR_FULL(_422),
    uncompressed or JPEG Baseline (and any other transfer syntax pydicom
    has a decoder for here).

    Raises:
        DatasetFormatError: naming ``path`` and the DICOM keyword: not a
            DICOM file, no PixelData, a missing or unsupported image
            attribute, an ultrasound region outside the image or with a zero
            pixel size.
    """
    import pydicom
    from pydicom.pixels import get_decoder
    path = str(path)
    if not osp.isfile(path):
        raise DatasetFormatError(path, 'file not found')
    if not is_dicom(path):
        raise DatasetFormatError(
            path, "not a DICOM file (no 'DICM' marker at byte 128)")
    try:
        with open(path, 'rb') as f:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
            tsyntax = ds.file_meta.get('TransferSyntaxUID')
            little = tsyntax is None or pydicom.uid.UID(
                tsyntax).is_little_endian
            tag = f.read(4)
    except Exception as e:  # pydicom raises many types on bad headers
        raise DatasetFormatError(
            path, f'cannot parse the DICOM header ({type(e).__name__})') \
            from e
    if len(tag) < 4 or struct.unpack('<HH' if little else '>HH',
                                     tag) != _PIXEL_DATA_TAG:
        raise DatasetFormatError(path, 'no image data', field='PixelData')
    if not tsyntax:
        raise DatasetFormatError(path, 'missing', field='TransferSyntaxUID')
    try:
        available = get_decoder(tsyntax).is_available
    except NotImplementedError:
        available = False
    if not available:
        raise DatasetFormatError(
            path,
            f'no decoder installed for transfer syntax {tsyntax}',
            field='TransferSyntaxUID')
    rows = _get(path, ds, 'Rows', int)
    columns = _get(path, ds, 'Columns', int)
    if rows < 1 or columns < 1:
        raise DatasetFormatError(
            path, f'empty image: {columns}x{rows}', field='Rows')
    bits = _get(path, ds, 'BitsAllocated', int)
    if bits != 8:
        raise DatasetFormatError(
            path,
            f'only 8-bit images are supported, got {bits}',
            field='BitsAllocated')
    if _get(path, ds, 'PixelRepresentation', int, False) not in (None, 0):
        raise DatasetFormatError(
            path, 'expected unsigned pixels (0)', field='PixelRepresentation')
    photometric = str(_get(path, ds, 'PhotometricInterpretation')).strip()
    if photometric not in _SUPPORTED_PHOTOMETRIC:
        raise DatasetFormatError(
            path, f'{photometric!r} is not supported (expected one of '
            f'{", ".join(_SUPPORTED_PHOTOMETRIC)})',
            field='PhotometricInterpretation')
    samples = _get(path, ds, 'SamplesPerPixel', int)
    if samples != (1 if photometric.startswith('MONOCHROME') else 3):
        raise DatasetFormatError(
            path,
            f'{samples} samples per pixel do not fit {photometric}',
            field='SamplesPerPixel')
    n_frames = _get(path, ds, 'NumberOfFrames', int, False)
    n_frames = 1 if n_frames is None else n_frames
    if n_frames < 1:
        raise DatasetFormatError(
            path,
            f'expected at least 1, got {n_frames}',
            field='NumberOfFrames')
    frame_time_s = None
    ft = _get(path, ds, 'FrameTime', float, False)
    rate = _get(path, ds, 'CineRate', float, False)
    if ft is not None and np.isfinite(ft) and ft > 0:
        frame_time_s = ft / 1000.0
    elif rate is not None and np.isfinite(rate) and rate > 0:
        frame_time_s = 1.0 / rate
    regions = []
    for item in ds.get('SequenceOfUltrasoundRegions', None) or []:
        region = _read_region(path, item)
        region.validate(path, rows, columns)
        regions.append(region)
    uid = ds.get('SOPInstanceUID', None)
    heart_rate, heart_rate_problem = read_heart_rate(ds)
    return DicomImage(
        path=path,
        rows=rows,
        columns=columns,
        n_frames=n_frames,
        photometric=photometric,
        transfer_syntax=str(tsyntax),
        frame_time_s=frame_time_s,
        sop_instance_uid=str(uid) if uid else None,
        regions=regions,
        heart_rate_bpm=heart_rate,
        heart_rate_problem=heart_rate_problem)


def _region_item(region: UltrasoundRegion):
    from pydicom.dataset import Dataset
    item = Dataset()
    item.RegionSpatialFormat = int(region.spatial_format)
    item.RegionDataType = int(region.data_type)
    item.RegionFlags = 0
    item.RegionLocationMinX0 = int(region.x0)
    item.RegionLocationMinY0 = int(region.y0)
    item.RegionLocationMaxX1 = int(region.x1)
    item.RegionLocationMaxY1 = int(region.y1)
    item.PhysicalUnitsXDirection = int(region.units_x)
    item.PhysicalUnitsYDirection = int(region.units_y)
    item.PhysicalDeltaX = float(region.delta_x)
    item.PhysicalDeltaY = float(region.delta_y)
    for keyword, value in (('ReferencePixelX0', region.ref_x0),
                           ('ReferencePixelY0', region.ref_y0)):
        if value is not None:
            setattr(item, keyword, int(value))
    for keyword, value in (('ReferencePixelPhysicalValueX',
                            region.ref_value_x),
                           ('ReferencePixelPhysicalValueY',
                            region.ref_value_y)):
        if value is not None:
            setattr(item, keyword, float(value))
    return item


def write_us_dicom(path: str,
                   frames: Union[np.ndarray, Sequence[np.ndarray]],
                   regions: Sequence[UltrasoundRegion] = (),
                   compress: Optional[str] = None,
                   frame_time_ms: Optional[float] = None,
                   quality: int = 90,
                   patient_name: str = 'PHANTOM^MMECHO',
                   uid_seed: Optional[str] = None,
                   heart_rate_bpm: Optional[float] = None) -> str:
    """Write an ultrasound DICOM file (atomically).

    One frame gives US Image Storage, several US Multi-frame Image Storage;
    pixels are RGB, 8 bit.

    Args:
        path (str): output file.
        frames: one ``(H, W, 3)`` BGR or ``(H, W)`` gray uint8 image, a
            ``(T, H, W, 3)`` / ``(T, H, W)`` array, or a sequence of images
            of one shape.
        regions: written as the Sequence of Ultrasound Regions (validated
            against the image size first).
        compress (str, optional): None (Explicit VR Little Endian) or
            ``'jpeg'`` (JPEG Baseline, encoded by OpenCV, stored as
            YBR_FULL_422).
        frame_time_ms (float, optional): FrameTime of a multi-frame file.
        quality (int): JPEG quality, 1..100.
        patient_name (str): PatientName (a phantom name; never real data).
        uid_seed (str, optional): entropy of the generated UIDs; defaults to
            the file name, so a rewrite gives the same UIDs (reproducible).
        heart_rate_bpm (float, optional): written as Heart Rate (0018,1088),
            rounded to an integer (IS); positive.

    Returns:
        str: ``path``.
    """
    import cv2
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import generate_uid

    from mmecho.utils import atomic_write
    if isinstance(frames, np.ndarray):
        one = frames.ndim == 2 or (frames.ndim == 3 and frames.shape[-1] == 3)
        frames = [frames] if one else list(frames)
    rgb = []
    for i, f in enumerate(frames):
        f = np.asarray(f)
        if f.dtype != np.uint8:
            raise ValueError(f'{path}: frame {i} is {f.dtype}, expected uint8')
        if f.ndim == 2:
            f = cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)
        other_shape = bool(rgb) and f.shape != rgb[0].shape
        if f.ndim != 3 or f.shape[-1] != 3 or other_shape:
            expected = rgb[0].shape if rgb else '(H, W, 3)'
            raise ValueError(
                f'{path}: frame {i} has shape {f.shape}, expected {expected}')
        rgb.append(np.ascontiguousarray(f[..., ::-1]))
    if not rgb:
        raise ValueError(f'{path}: no frames to write')
    h, w = rgb[0].shape[:2]
    for r in regions:
        r.validate(path, h, w)
    if compress not in (None, 'jpeg'):
        raise ValueError(f"compress must be None or 'jpeg', got {compress!r}")
    seed = uid_seed if uid_seed is not None else osp.basename(path)
    multi = len(rgb) > 1
    sop_class = US_MULTIFRAME_IMAGE_STORAGE if multi else US_IMAGE_STORAGE
    sop_uid = generate_uid(entropy_srcs=['mmecho', seed, 'instance'])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = JPEG_BASELINE if compress else \
        EXPLICIT_VR_LITTLE_ENDIAN
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=['mmecho', seed, 'study'])
    ds.SeriesInstanceUID = generate_uid(
        entropy_srcs=['mmecho', seed, 'series'])
    ds.Modality = 'US'
    ds.PatientName = patient_name
    ds.PatientID = 'PHANTOM'
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = h, w
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if multi:
        ds.NumberOfFrames = len(rgb)
        ds.FrameIncrementPointer = (0x0018, 0x1063)  # FrameTime
        ds.FrameTime = float(frame_time_ms) if frame_time_ms else 0.0
        if frame_time_ms:
            ds.CineRate = int(round(1000.0 / frame_time_ms))
    if heart_rate_bpm is not None:
        bpm = int(round(float(heart_rate_bpm)))
        if not 1 <= bpm <= MAX_HEART_RATE:
            raise ValueError(f'{path}: heart_rate_bpm {heart_rate_bpm!r}: '
                             f'expected 1-{MAX_HEART_RATE} beats per minute')
        ds.HeartRate = bpm
    if regions:
        ds.SequenceOfUltrasoundRegions = DicomSequence(
            [_region_item(r) for r in regions])
    if compress == 'jpeg':
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        if hasattr(cv2, 'IMWRITE_JPEG_SAMPLING_FACTOR_422'):
            params += [
                cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422
            ]
        encoded = []
        for f in rgb:
            ok, buf = cv2.imencode('.jpg', f[..., ::-1], params)
            if not ok:
                raise ValueError(f'{path}: OpenCV could not encode a JPEG')
            encoded.append(buf.tobytes())
        ds.PhotometricInterpretation = 'YBR_FULL_422'
        ds.LossyImageCompression = '01'
        ds.LossyImageCompressionMethod = 'ISO_10918_1'
        ds.PixelData = encapsulate(encoded)
        ds['PixelData'].VR = 'OB'
        ds['PixelData'].is_undefined_length = True
    else:
        ds.PhotometricInterpretation = 'RGB'
        data = np.stack(rgb).tobytes()
        ds.PixelData = data + (b'\0' if len(data) % 2 else b'')
        ds['PixelData'].VR = 'OB'
    with atomic_write(path, mode=None) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
    return path


__all__ = [
    'UltrasoundRegion', 'DicomImage', 'is_dicom', 'read_dicom',
    'write_us_dicom', 'DICOM_EXTENSIONS', 'US_IMAGE_STORAGE',
    'US_MULTIFRAME_IMAGE_STORAGE', 'JPEG_BASELINE', 'read_heart_rate',
    'HEART_RATE_TAG', 'MAX_HEART_RATE'
]
