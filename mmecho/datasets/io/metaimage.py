# Copyright (c) mmecho contributors. All rights reserved.
"""MetaImage (``.mhd`` + ``.raw``/``.zraw``, or single-file ``.mha``) I/O.

The CAMUS 2019 release and TED use this ITK format. Header fields are
``Key = value`` lines; ``DimSize`` and ``ElementSpacing`` are given x first
(x = columns, y = rows, z = frames), the binary data is x-fastest, so the
numpy array is ``(..., y, x)`` = ``(T, H, W)`` for a sequence.
"""
import os.path as osp
import zlib
from typing import Dict, Tuple

import numpy as np

from mmecho.errors import DatasetFormatError

_MET_TYPES = {
    'MET_UCHAR': np.uint8,
    'MET_CHAR': np.int8,
    'MET_USHORT': np.uint16,
    'MET_SHORT': np.int16,
    'MET_UINT': np.uint32,
    'MET_INT': np.int32,
    'MET_FLOAT': np.float32,
    'MET_DOUBLE': np.float64,
}
_NP_TO_MET = {np.dtype(v): k for k, v in _MET_TYPES.items()}


def read_metaimage_header(path: str) -> Dict[str, str]:
    """Read the ``Key = value`` header of a ``.mhd``/``.mha`` file."""
    if not osp.isfile(path):
        raise DatasetFormatError(
            path, 'file not found (expected a MetaImage '
            'header .mhd/.mha)')
    header = {}
    with open(path, 'rb') as f:
        for raw_line in f:
            try:
                line = raw_line.decode('ascii').strip()
            except UnicodeDecodeError:
                raise DatasetFormatError(
                    path, 'not a MetaImage header (non-text line before '
                    'ElementDataFile)')
            if not line:
                continue
            if '=' not in line:
                raise DatasetFormatError(
                    path, f'expected "Key = value" header lines, got {line!r}')
            key, value = (s.strip() for s in line.split('=', 1))
            header[key] = value
            if key == 'ElementDataFile':
                break
    for key in ('NDims', 'DimSize', 'ElementType', 'ElementDataFile'):
        if key not in header:
            raise DatasetFormatError(
                path, 'missing from the MetaImage header', field=key)
    return header


def _ints(path, header, key):
    try:
        return [int(v) for v in header[key].split()]
    except ValueError:
        raise DatasetFormatError(
            path, f'expected integers, got {header[key]!r}', field=key)


def read_metaimage(path: str) -> Tuple[np.ndarray, Tuple[float, ...]]:
    """Read a MetaImage.

    Returns:
        tuple: ``(array, spacing)``: the array in numpy order (last axis = x),
        and the spacing in the same order (mm per pixel, e.g. ``(dy, dx)``
        for a 2D image, ``(dt, dy, dx)`` for a sequence).
    """
    header = read_metaimage_header(path)
    ndims = _ints(path, header, 'NDims')[0]
    dims = _ints(path, header, 'DimSize')
    if len(dims) != ndims:
        raise DatasetFormatError(
            path,
            f'expected {ndims} values (NDims), got {len(dims)}',
            field='DimSize')
    try:
        spacing = [
            float(v) for v in header.get(
                'ElementSpacing',
                header.get('ElementSize', ' '.join(['1'] * ndims))).split()
        ]
    except ValueError:
        raise DatasetFormatError(
            path, 'expected floats', field='ElementSpacing')
    etype = header['ElementType']
    if etype not in _MET_TYPES:
        raise DatasetFormatError(
            path,
            f'expected one of {sorted(_MET_TYPES)}, got {etype!r}',
            field='ElementType')
    dtype = np.dtype(_MET_TYPES[etype])
    if header.get('BinaryDataByteOrderMSB', 'False').lower() == 'true':
        dtype = dtype.newbyteorder('>')
    data_file = header['ElementDataFile']
    if data_file == 'LOCAL':
        with open(path, 'rb') as f:
            content = f.read()
        marker = content.find(b'ElementDataFile')
        payload = content[content.index(b'\n', marker) + 1:]
        data_path = path
    else:
        data_path = osp.join(osp.dirname(path), data_file)
        if not osp.isfile(data_path):
            raise DatasetFormatError(
                path,
                f'the data file {data_path} does not exist',
                field='ElementDataFile')
        with open(data_path, 'rb') as f:
            payload = f.read()
    if header.get('CompressedData', 'False').lower() == 'true':
        try:
            payload = zlib.decompress(payload)
        except zlib.error as e:
            raise DatasetFormatError(data_path, f'corrupt zlib data ({e})')
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(payload) != expected:
        raise DatasetFormatError(
            data_path, f'expected {expected} bytes for DimSize {dims} of '
            f'{etype}, got {len(payload)}')
    array = np.frombuffer(payload, dtype=dtype).reshape(dims[::-1])
    return array.astype(dtype.newbyteorder('=')), tuple(spacing[::-1])


def write_metaimage(path: str,
                    array: np.ndarray,
                    spacing: Tuple[float, ...],
                    compress: bool = False) -> None:
    """Write ``array`` (numpy order, last axis = x) as ``path`` (``.mhd``)
    plus a ``.raw`` (or ``.zraw``) data file beside it, atomically."""
    from mmecho.utils import atomic_write
    array = np.ascontiguousarray(array)
    if array.dtype not in _NP_TO_MET:
        raise TypeError(f'cannot write dtype {array.dtype} as MetaImage')
    if len(spacing) != array.ndim:
        raise ValueError(f'spacing {spacing} does not match shape '
                         f'{array.shape}')
    stem = osp.splitext(osp.basename(path))[0]
    data_name = stem + ('.zraw' if compress else '.raw')
    payload = array.tobytes()
    if compress:
        payload = zlib.compress(payload)
    with atomic_write(osp.join(osp.dirname(path), data_name)) as f:
        f.write(payload)
    ndims = array.ndim
    lines = [
        'ObjectType = Image',
        f'NDims = {ndims}',
        'BinaryData = True',
        'BinaryDataByteOrderMSB = False',
        f'CompressedData = {compress}',
    ]
    if compress:
        lines.append(f'CompressedDataSize = {len(payload)}')
    identity = np.eye(ndims, dtype=int).ravel()
    lines += [
        'TransformMatrix = ' + ' '.join(str(v) for v in identity),
        'Offset = ' + ' '.join(['0'] * ndims),
        'CenterOfRotation = ' + ' '.join(['0'] * ndims),
        'ElementSpacing = ' + ' '.join(f'{s:.10g}' for s in spacing[::-1]),
        'DimSize = ' + ' '.join(str(d) for d in array.shape[::-1]),
        f'ElementType = {_NP_TO_MET[array.dtype]}',
        f'ElementDataFile = {data_name}',
    ]
    with atomic_write(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
