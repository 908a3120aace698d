# Copyright (c) mmecho contributors. All rights reserved.
"""Loading transforms for NIfTI/MetaImage frames, slices and label maps."""
import functools
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as _MMCVLoadImageFromFile
from mmengine import fileio

from mmecho.registry import TRANSFORMS
from ..io import DatasetFormatError, load_medical_image


@functools.lru_cache(maxsize=32)
def _cached_load(path: str, mtime: float):
    array, spacing = load_medical_image(path)
    array.setflags(write=False)
    return array, spacing


def load_cached(path: str):
    """Load a medical image, caching the last few files of this process
    (a sequence file serves all its frames)."""
    if not osp.isfile(path):
        raise DatasetFormatError(path, 'file not found')
    return _cached_load(path, osp.getmtime(path))


def select_frame(array: np.ndarray, frame_index: Optional[int],
                 slice_index: Optional[int], path: str) -> np.ndarray:
    """Pick ``array[frame][slice]`` down to a 2D ``(H, W)`` image."""
    idx = [i for i in (frame_index, slice_index) if i is not None]
    if array.ndim - len(idx) != 2:
        raise DatasetFormatError(
            path, f'array of shape {array.shape} with frame_index='
            f'{frame_index}, slice_index={slice_index} does not give a 2D '
            'image')
    for axis, i in enumerate(idx):
        if not 0 <= i < array.shape[axis]:
            raise DatasetFormatError(
                path, f'index {i} out of range for axis {axis} of size '
                f'{array.shape[axis]}')
    return array[tuple(idx)]


def to_uint8_range(img: np.ndarray) -> np.ndarray:
    """float32 image in 0..255: uint8 kept as is; other types scaled by the
    0.5 and 99.5 percentiles (MRI intensities have no fixed range)."""
    if img.dtype == np.uint8:
        return img.astype(np.float32)
    img = img.astype(np.float32)
    lo, hi = np.percentile(img, (0.5, 99.5))
    if hi <= lo:
        return np.zeros_like(img)
    return np.clip((img - lo) / (hi - lo) * 255.0, 0, 255)


@TRANSFORMS.register_module()
class LoadEchoFrame(BaseTransform):
    """Load one 2D frame from a NIfTI/MetaImage image, sequence or volume.

    Required keys: ``img_path``; optional ``frame_index``, ``slice_index``
    (``None`` for a 2D file). Added keys: ``img`` ``(H, W, C)`` float32 in
    0..255, ``img_shape``, ``ori_shape``, ``spacing`` ``(row_mm, col_mm)``.

    Args:
        num_channels (int): 1 (grayscale) or 3 (gray repeated, for backbones
            built for RGB). Defaults to 3.
    """

    def __init__(self, num_channels: int = 3) -> None:
        if num_channels not in (1, 3):
            raise ValueError('num_channels must be 1 or 3')
        self.num_channels = num_channels

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        array, spacing = load_cached(path)
        img = select_frame(array, results.get('frame_index'),
                           results.get('slice_index'), path)
        img = to_uint8_range(img)
        img = np.repeat(img[..., None], self.num_channels, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['spacing'] = tuple(float(s) for s in spacing[-2:])
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(num_channels={self.num_channels})'


@TRANSFORMS.register_module()
class LoadEchoLabelMap(BaseTransform):
    """Load the label map matching :class:`LoadEchoFrame`.

    Required keys: ``seg_map_path``, ``ori_shape`` (the image's shape as
    loaded); optional ``frame_index``,
    ``slice_index``. Added keys: ``gt_seg_map`` ``(H, W)`` uint8,
    ``seg_fields``. Raises :class:`DatasetFormatError` when the label map's
    shape differs from the image's or a label is not in ``valid_labels``.

    Args:
        valid_labels (Sequence[int], optional): Allowed label values.
    """

    def __init__(self, valid_labels: Optional[Sequence[int]] = None) -> None:
        self.valid_labels = None if valid_labels is None else set(
            int(v) for v in valid_labels)

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        array, _ = load_cached(path)
        lab = select_frame(array, results.get('frame_index'),
                           results.get('slice_index'), path)
        img_shape = tuple(results.get('ori_shape', results['img_shape'])[:2])
        if tuple(lab.shape) != img_shape:
            raise DatasetFormatError(
                path, f'label map of shape {tuple(lab.shape)} but its image '
                f'{results["img_path"]} has shape {img_shape}; expected '
                'equal shapes')
        lab = np.asarray(lab)
        if self.valid_labels is not None:
            bad = set(np.unique(lab).tolist()) - self.valid_labels
            if bad:
                raise DatasetFormatError(
                    path, f'label values {sorted(bad)} not in '
                    f'{sorted(self.valid_labels)}')
        results['gt_seg_map'] = lab.astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


@TRANSFORMS.register_module()
class CheckImageShape(BaseTransform):
    """Check that a loaded image has the ``height``/``width`` its annotation
    file declares (COCO ``images`` entries); raise a clear error otherwise.
    """

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        want = (results.get('height'), results.get('width'))
        if None not in want and (h, w) != tuple(want):
            raise DatasetFormatError(
                results['img_path'], f'image is {w}x{h} (WxH) but the '
                f'annotation file declares {want[1]}x{want[0]}; masks would '
                'not match the image',
                field='height/width')
        return results


_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_JPEG_SIGNATURE = b'\xff\xd8'


def check_image_bytes(data: bytes, path: str) -> None:
    """Refuse an empty file, and a PNG/JPEG whose end marker is missing
    (a truncated file: OpenCV may decode part of a JPEG with only a
    warning). Raises :class:`DatasetFormatError` naming ``path``."""
    if not data:
        raise DatasetFormatError(
            path, 'empty file (0 bytes); expected an image (PNG, JPEG, ...)')
    tail = data[-256:]
    if data.startswith(_PNG_SIGNATURE) and b'IEND' not in tail:
        raise DatasetFormatError(
            path, f'truncated PNG ({len(data)} bytes, no IEND chunk at the '
            'end); expected a complete image file')
    if data.startswith(_JPEG_SIGNATURE) and b'\xff\xd9' not in tail:
        raise DatasetFormatError(
            path, f'truncated JPEG ({len(data)} bytes, no end-of-image '
            'marker FFD9 at the end); expected a complete image file')


@TRANSFORMS.register_module()
class LoadImageFromFile(_MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments and keys) that raises a
    :class:`DatasetFormatError` naming the file for a missing, empty,
    truncated or undecodable image, instead of OpenCV's ``!buf.empty()``
    assertion or ``failed to load image``. Registered in the ``mmecho``
    scope under mmcv's name, so configs with ``default_scope='mmecho'``
    use it. ``ignore_empty=True`` still returns None for such files.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            try:
                if self.file_client_args is not None:
                    client = fileio.FileClient.infer_client(
                        self.file_client_args, filename)
                    img_bytes = client.get(filename)
                else:
                    img_bytes = fileio.get(
                        filename, backend_args=self.backend_args)
            except FileNotFoundError:
                raise DatasetFormatError(filename, 'file not found')
            check_image_bytes(img_bytes, filename)
            if img_bytes[128:132] == b'DICM':
                # an ultrasound DICOM export: its first frame, BGR
                from mmecho.datasets.io.dicom import read_dicom
                img = read_dicom(filename).read_frame(0)
                if self.color_type == 'grayscale':
                    img = img[..., 0].copy()
                results['img_path'] = filename
                return self._finish(results, img)
            try:
                img = mmcv.imfrombytes(
                    img_bytes,
                    flag=self.color_type,
                    backend=self.imdecode_backend)
            except Exception as e:  # cv2.error, PIL errors, ...
                raise DatasetFormatError(
                    filename, f'cannot decode the image '
                    f'({type(e).__name__}: {str(e).strip()})') from e
            if img is None:
                raise DatasetFormatError(
                    filename, f'cannot decode the image ({len(img_bytes)} '
                    'bytes; corrupt or not an image format OpenCV reads)')
        except DatasetFormatError:
            if self.ignore_empty:
                return None
            raise
        return self._finish(results, img)

    def _finish(self, results: dict, img: np.ndarray) -> dict:
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
