# Copyright (c) mmecho contributors. All rights reserved.
"""What ``tools/measure.py`` measures: images, DICOM files (one frame or a
cine), videos and COCO entries, decoded one frame at a time.

Every input becomes a :class:`MeasureInput`: a row name, a content hash (for
resuming), the BGR image and its DICOM M-mode region, or a status saying why
it cannot be measured (unreadable, truncated, not the image its annotation
describes, a name that leaves the image folder). Nothing here raises for one
bad file: a batch goes on and every file gets its row.
"""
import hashlib
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, Iterator, Optional

import numpy as np

from mmecho.errors import DatasetFormatError
from mmecho.datasets.io.dicom import (DICOM_EXTENSIONS, UltrasoundRegion,
                                      is_dicom, read_dicom)

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
VIDEO_EXT = ('.mp4', '.avi', '.mov', '.mkv')
MIN_SIDE = 32  # px; smaller images cannot hold an M-mode strip


@dataclass
class MeasureInput:
    """One image to measure, or the reason it cannot be.

    Attributes:
        name (str): row key: the file name (folder), the COCO ``file_name``
            or ``{stem}_frame{i:05d}`` for the frames of a video or
            multi-frame DICOM.
        sha256 (str): hex SHA-256 of the file's bytes; for a frame, of the
            file's hash and the frame index (:func:`frame_sha256`); '' when
            the file cannot be read.
        image (np.ndarray, optional): (H, W, 3) uint8 BGR.
        path (str, optional): the image file (its sidecar json calibrates
            it); None for video frames.
        region (UltrasoundRegion, optional): the DICOM M-mode region.
        status (str, optional): why it cannot be measured (then ``image``
            is None); None when it can.
        bands (dict, optional): class -> band of its COCO annotation.
        source (str, optional): the video / multi-frame DICOM file of a
            frame (None for a single image).
        source_sha256 (str): hex SHA-256 of ``source``'s bytes.
        dicom_heart_rate_bpm (int, optional): the DICOM file's Heart Rate
            (0018,1088); None when absent, malformed or not a DICOM file.
        dicom_heart_rate_problem (str, optional): why the file's Heart
            Rate cannot be used (malformed); None otherwise.
    """
    name: str
    sha256: str = ''
    image: Optional[np.ndarray] = None
    path: Optional[str] = None
    region: Optional[UltrasoundRegion] = None
    status: Optional[str] = None
    bands: Optional[Dict] = None
    source: Optional[str] = None
    source_sha256: str = ''
    dicom_heart_rate_bpm: Optional[int] = None
    dicom_heart_rate_problem: Optional[str] = None


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks of ``chunk`` bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def frame_sha256(file_sha: str, index: int) -> str:
    """Hash of frame ``index`` of a file whose hash is ``file_sha``."""
    return hashlib.sha256(f'{file_sha}:frame{index}'.encode()).hexdigest()


def frame_name(stem: str, index: int) -> str:
    """Row name of frame ``index`` of a video / multi-frame file."""
    return f'{stem}_frame{index:05d}'


def image_problem(image: np.ndarray) -> Optional[str]:
    """A status for an image no M-mode measurement can come from, or None.
    """
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        return (f'image too small: {w}x{h} (an M-mode capture needs at least '
                f'{MIN_SIDE} px per side)')
    return None


def is_dicom_file(path: str) -> bool:
    """A ``.dcm``/``.dicom`` file, or any file with the DICOM marker."""
    return path.lower().endswith(DICOM_EXTENSIONS) or is_dicom(path)


def _unreadable(name, sha, what, err, **kw) -> MeasureInput:
    return MeasureInput(name, sha, status=f'unreadable {what}: {err}', **kw)


def read_image_input(path: str, name: str) -> MeasureInput:
    """A non-DICOM image file: its bytes are read once (hash and decode)."""
    import cv2
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return _unreadable(name, '', 'image', f'{path}: {e.strerror}')
    sha = hashlib.sha256(data).hexdigest()
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        return _unreadable(name, sha, 'image',
                           f'{path}: cannot decode {len(data)} bytes')
    return MeasureInput(name, sha, image, path)


def iter_dicom_inputs(path: str,
                      name: Optional[str] = None,
                      single_only: bool = False) -> Iterator[MeasureInput]:
    """The frames of a DICOM file, decoded one at a time.

    One frame is named ``name`` (default: the file name); the frames of a
    cine ``{stem}_frame{i:05d}``. A file that cannot be read gives one
    status; frames that cannot be decoded end the cine with a status
    ``DICOM truncated: decoded N of M frames`` named after the first
    missing frame. ``single_only`` (a COCO entry describes one image) turns
    a cine into a status.
    """
    name = name or osp.basename(path)
    try:
        sha = file_sha256(path)
    except OSError as e:
        yield _unreadable(name, '', 'image', f'{path}: {e.strerror}')
        return
    try:
        dcm = read_dicom(path)
    except DatasetFormatError as e:
        yield _unreadable(name, sha, 'image', e)
        return
    region = dcm.mmode_region
    hr = dict(
        dicom_heart_rate_bpm=dcm.heart_rate_bpm,
        dicom_heart_rate_problem=dcm.heart_rate_problem)
    if dcm.n_frames == 1:
        try:
            image = next(dcm.iter_frames())
        except DatasetFormatError as e:
            yield _unreadable(name, sha, 'image', e)
            return
        yield MeasureInput(name, sha, image, path, region, **hr)
        return
    if single_only:
        yield MeasureInput(
            name,
            sha,
            status=f'multi-frame DICOM ({dcm.n_frames} frames): one '
            'annotation entry describes one image',
            **hr)
        return
    stem = osp.splitext(osp.basename(path))[0]
    decoded = 0
    try:
        for frame in dcm.iter_frames():
            yield MeasureInput(
                frame_name(stem, decoded),
                frame_sha256(sha, decoded),
                frame,
                path,
                region,
                source=path,
                source_sha256=sha,
                **hr)
            decoded += 1
    except DatasetFormatError:
        yield MeasureInput(
            frame_name(stem, decoded),
            frame_sha256(sha, decoded),
            status=f'DICOM truncated: decoded {decoded} of {dcm.n_frames} '
            'frames',
            source=path,
            source_sha256=sha,
            **hr)


def iter_video_inputs(path: str) -> Iterator[MeasureInput]:
    """The frames of a video (``{stem}_frame{i:05d}``), one at a time; a
    video that ends before CAP_PROP_FRAME_COUNT frames gets a status
    ``video truncated: decoded N of M frames``."""
    import cv2
    name = osp.basename(path)
    stem = osp.splitext(name)[0]
    try:
        sha = file_sha256(path)
    except OSError as e:
        yield _unreadable(name, '', 'video', f'{path}: {e.strerror}')
        return
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            yield _unreadable(name, sha, 'video',
                              f'{path}: OpenCV cannot open it')
            return
        expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            yield MeasureInput(
                frame_name(stem, i),
                frame_sha256(sha, i),
                frame,
                source=path,
                source_sha256=sha)
            i += 1
        if i == 0:
            yield _unreadable(name, sha, 'video',
                              f'{path}: no frame could be decoded')
        elif expected > 0 and i < expected:
            yield MeasureInput(
                frame_name(stem, i),
                frame_sha256(sha, i),
                status=f'video truncated: decoded {i} of {expected} frames',
                source=path,
                source_sha256=sha)
    finally:
        cap.release()


def _folder_files(path):
    out = []
    for f in sorted(os.listdir(path)):
        full = osp.join(path, f)
        if not osp.isfile(full) or f.upper() == 'DICOMDIR':
            continue
        low = f.lower()
        if low.endswith(IMAGE_EXT + VIDEO_EXT) or low.endswith(
                DICOM_EXTENSIONS) or ('.' not in f and is_dicom(full)):
            out.append(full)
    return out


def iter_path_inputs(path: str) -> Iterator[MeasureInput]:
    """Inputs of an image, a DICOM file, a video, or a folder of images,
    videos and DICOM files (sorted by name; DICOM files without an extension
    are recognised by their marker, DICOMDIR is skipped).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    if osp.isdir(path):
        for f in _folder_files(path):
            yield from iter_path_inputs(f)
    elif not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such image, folder or video')
    elif path.lower().endswith(VIDEO_EXT):
        yield from iter_video_inputs(path)
    elif is_dicom_file(path):
        yield from iter_dicom_inputs(path)
    else:
        yield read_image_input(path, osp.basename(path))


def count_path_inputs(path: str) -> int:
    """Number of rows :func:`iter_path_inputs` gives (for progress)."""
    import cv2
    if osp.isdir(path):
        return sum(count_path_inputs(f) for f in _folder_files(path))
    if path.lower().endswith(VIDEO_EXT):
        cap = cv2.VideoCapture(path)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        return max(n, 1)
    if osp.isfile(path) and is_dicom_file(path):
        try:
            return read_dicom(path).n_frames
        except DatasetFormatError:
            return 1
    return 1


def annotation_file_path(image_dir: str, file_name) -> Optional[str]:
    """``image_dir/file_name``, or None when the name would leave
    ``image_dir`` (absolute, a drive, ``..``, a NUL byte or empty).
    Backslashes count as separators (COCO files written on Windows)."""
    name = str(file_name).replace('\\', '/')
    parts = name.split('/')
    if not name.strip() or '\0' in name or name.startswith('/') or \
            re.match(r'^[A-Za-z]:', name) or '..' in parts:
        return None
    return osp.join(image_dir, *[p for p in parts if p not in ('', '.')])


def _annotation_size(info):
    try:
        w, h = int(info['width']), int(info['height'])
    except (KeyError, TypeError, ValueError):
        return None
    return (w, h) if w > 0 and h > 0 else None


def iter_annotation_inputs(ann_file: str,
                           image_dir: str) -> Iterator[MeasureInput]:
    """Every image of a COCO file with its bands, read from ``image_dir``
    (images or DICOM files) and checked against its entry: a name that
    leaves ``image_dir``, an unreadable file, an image whose size differs
    from the entry's width x height or whose walls are not where the
    annotation has them (:func:`annotation_mismatch`) gets a status and no
    image."""
    from mmecho.measurement import iter_coco_bands
    from mmecho.measurement.annotation_check import annotation_mismatch
    for info, bands in iter_coco_bands(ann_file):
        name = str(info.get('file_name', ''))
        path = annotation_file_path(image_dir, name)
        if path is None:
            yield MeasureInput(
                name,
                status=f'file_name {name!r} leaves the image folder: '
                'refused')
            continue
        if not osp.isfile(path):
            yield _unreadable(name, '', 'image', f'{path}: no such file')
            continue
        if is_dicom_file(path):
            item = next(iter_dicom_inputs(path, name, single_only=True))
        elif path.lower().endswith(VIDEO_EXT):
            item = MeasureInput(
                name, status='a video cannot match one annotation entry')
        else:
            item = read_image_input(path, name)
        if item.image is not None:
            size = _annotation_size(info)
            h, w = item.image.shape[:2]
            if size is None:
                item = MeasureInput(
                    name,
                    item.sha256,
                    status='annotation entry has no valid width/height')
            elif size != (w, h):
                item = MeasureInput(
                    name,
                    item.sha256,
                    status=f'image does not match its annotation: {w}x{h}, '
                    f'annotation says {size[0]}x{size[1]}')
            else:
                problem = annotation_mismatch(item.image, bands)
                if problem:
                    item = MeasureInput(name, item.sha256, status=problem)
        item.bands = bands
        yield item


class OutputNames:
    """Safe, unique file stems for outputs written inside an output folder.

    A name loses its directories, ``.``/``..`` parts, its extension, and
    every character outside letters, digits, ``_``, ``-`` and ``.``; a
    leading dot is dropped and the length capped, so the stem can never
    point outside the folder. Two names that end up alike (case-insensitive)
    get ``_2``, ``_3``... in the order they are first seen, which is stable
    from run to run when the inputs come in the same order.
    """

    def __init__(self, max_len: int = 120) -> None:
        self.max_len = max_len
        self._by_name: Dict[str, str] = {}
        self._taken = set()

    @staticmethod
    def sanitize(name: str, max_len: int = 120) -> str:
        parts = [
            p for p in re.split(r'[\\/]+', str(name))
            if p not in ('', '.', '..')
        ]
        stem = '_'.join(parts)
        root, ext = osp.splitext(stem)
        if root and re.fullmatch(r'\.[A-Za-z0-9]{1,6}', ext):
            stem = root
        stem = re.sub(r'[^\w.-]', '_', stem).lstrip('.-')
        return stem[:max_len] or 'image'

    def get(self, name: str) -> str:
        """The stem for ``name`` (the same stem every time it is asked)."""
        if name in self._by_name:
            return self._by_name[name]
        base = self.sanitize(name, self.max_len)
        stem, k = base, 1
        while stem.lower() in self._taken:
            k += 1
            stem = f'{base}_{k}'
        self._taken.add(stem.lower())
        self._by_name[name] = stem
        return stem


__all__ = [
    'MeasureInput', 'IMAGE_EXT', 'VIDEO_EXT', 'MIN_SIDE', 'file_sha256',
    'frame_sha256', 'frame_name', 'image_problem', 'is_dicom_file',
    'read_image_input', 'iter_dicom_inputs', 'iter_video_inputs',
    'iter_path_inputs', 'count_path_inputs', 'annotation_file_path',
    'iter_annotation_inputs', 'OutputNames'
]
