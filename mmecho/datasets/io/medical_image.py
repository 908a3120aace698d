# Copyright (c) mmecho contributors. All rights reserved.
"""Reading and writing the medical image formats of CAMUS, TED and M&Ms.

Axis convention of mmecho arrays: numpy order with columns (x) last, i.e.
``(H, W)`` for an image, ``(T, H, W)`` for a sequence, ``(T, Z, H, W)`` for
a cine volume. ``spacing`` is given in the same order, in mm (time axes keep
whatever the header says, usually 1).

NIfTI stores x first: nibabel returns ``(x, y[, z][, t])`` = ``(W, H, ...)``
and pixdim ``(dx, dy, ...)``; :func:`load_medical_image` reverses the
spatial axes so that NIfTI and MetaImage files of the same data give the same
array (this is how ITK-based tools, which wrote both CAMUS releases, map
them).
"""
import gzip
import os.path as osp
import zlib
from typing import Optional, Sequence, Tuple

import numpy as np

from mmecho.errors import DatasetFormatError
from .metaimage import read_metaimage, write_metaimage

IMAGE_EXTENSIONS = ('.nii.gz', '.nii', '.mhd', '.mha')


def split_image_ext(path: str) -> Tuple[str, str]:
    """``'a/b.nii.gz'`` -> ``('a/b', '.nii.gz')``."""
    for ext in IMAGE_EXTENSIONS:
        if path.endswith(ext):
            return path[:-len(ext)], ext
    return osp.splitext(path)


def find_image(stem: str,
               extensions: Sequence[str] = IMAGE_EXTENSIONS) -> Optional[str]:
    """Return the first existing ``stem + ext``, or None."""
    for ext in extensions:
        if osp.isfile(stem + ext):
            return stem + ext
    return None


def resolve_image(stem: str,
                  what: str,
                  extensions: Sequence[str] = IMAGE_EXTENSIONS) -> str:
    """Like :func:`find_image` but raise a :class:`DatasetFormatError`
    naming the expected files when none exists."""
    path = find_image(stem, extensions)
    if path is None:
        raise DatasetFormatError(
            stem + extensions[0],
            f'{what} not found (looked for {osp.basename(stem)} with '
            f'extension {" / ".join(extensions)})')
    return path


def _load_nifti(path: str) -> Tuple[np.ndarray, Tuple[float, ...]]:
    import nibabel as nib
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile,
            nib.filebasedimages.ImageFileError) as e:
        raise DatasetFormatError(
            path, f'cannot read as NIfTI ({type(e).__name__}: {e})')
    zooms = tuple(float(z) for z in img.header.get_zooms())
    if data.ndim < 2:
        raise DatasetFormatError(
            path, f'expected at least 2 dimensions, got shape {data.shape}')
    # (x, y, rest...) -> (rest reversed..., y, x)
    order = tuple(range(data.ndim - 1, 1, -1)) + (1, 0)
    array = np.transpose(data, order)
    spacing = tuple(zooms[i] for i in order)
    return np.ascontiguousarray(array), spacing


def load_medical_image(path: str) -> Tuple[np.ndarray, Tuple[float, ...]]:
    """Load a NIfTI (``.nii``/``.nii.gz``) or MetaImage (``.mhd``/``.mha``).

    Returns:
        tuple: ``(array, spacing)`` in mmecho's axis order (see module doc).
    """
    if not osp.isfile(path):
        raise DatasetFormatError(path, 'file not found')
    _, ext = split_image_ext(path)
    if ext in ('.nii', '.nii.gz'):
        return _load_nifti(path)
    if ext in ('.mhd', '.mha'):
        return read_metaimage(path)
    raise DatasetFormatError(
        path, f'unsupported extension {ext!r}, expected one of '
        f'{IMAGE_EXTENSIONS}')


def read_image_shape(path: str) -> Tuple[int, ...]:
    """Array shape (mmecho order) read from the header only."""
    _, ext = split_image_ext(path)
    if ext in ('.nii', '.nii.gz'):
        import nibabel as nib
        try:
            shape = nib.load(path).header.get_data_shape()
        except Exception as e:  # nibabel raises many types on bad headers
            raise DatasetFormatError(
                path, f'cannot read NIfTI header ({type(e).__name__}: {e})')
        order = tuple(range(len(shape) - 1, 1, -1)) + (1, 0)
        return tuple(int(shape[i]) for i in order)
    from .metaimage import read_metaimage_header
    header = read_metaimage_header(path)
    return tuple(int(v) for v in header['DimSize'].split()[::-1])


def save_medical_image(path: str, array: np.ndarray,
                       spacing: Sequence[float]) -> None:
    """Write ``array`` (mmecho axis order) as NIfTI or MetaImage, chosen by
    the extension of ``path``; written atomically."""
    _, ext = split_image_ext(path)
    if ext in ('.mhd', '.mha'):
        write_metaimage(path, array, tuple(spacing))
        return
    if ext not in ('.nii', '.nii.gz'):
        raise ValueError(f'unsupported extension {ext!r} for {path}')
    import nibabel as nib

    from mmecho.utils import atomic_write
    order = tuple(range(array.ndim - 1, 1, -1)) + (1, 0)
    # the inverse permutation of the one used for loading
    inverse = tuple(np.argsort(order))
    data = np.transpose(array, inverse)
    zooms = tuple(float(spacing[i]) for i in inverse)
    affine = np.diag(list(zooms[:3]) + [1.0] * (4 - min(3, len(zooms))))
    if len(zooms) < 3:
        affine = np.eye(4)
        affine[0, 0], affine[1, 1] = zooms[0], zooms[1]
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms(zooms)
    img.header.set_xyzt_units('mm', 'sec')
    with atomic_write(path, mode=None) as tmp:
        nib.save(img, tmp)
