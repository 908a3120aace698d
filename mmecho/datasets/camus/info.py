# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS ``Info_{2CH,4CH}.cfg`` files (``Key: value`` lines)."""
import os.path as osp
from typing import Dict, Optional, Union

from mmecho.errors import DatasetFormatError

_INT_KEYS = ('ED', 'ES', 'NbFrame', 'Age')
_FLOAT_KEYS = ('EF', 'LVedv', 'LVesv', 'LVef', 'FrameRate')

InfoDict = Dict[str, Union[int, float, str]]


def _parse_int(path: str, key: str, value: str) -> int:
    """An integer field; ``'18'`` and ``'18.0'`` are accepted, ``'18.7'``
    is refused rather than truncated."""
    what = ('a 1-based frame number' if key in ('ED', 'ES') else
            'a number of frames' if key == 'NbFrame' else 'an integer')
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise DatasetFormatError(
            path, f'expected {what} (an integer), got {value!r}', field=key)
    return int(number)


def check_camus_frames(info: InfoDict,
                       info_path: str,
                       num_frames: Optional[int] = None,
                       sequence_path: Optional[str] = None) -> None:
    """The one check of an Info file's frames against its sequence.

    ``1 <= ED < ES <= num_frames`` (1-based, as in the file) and
    ``NbFrame == num_frames`` when present. Without ``num_frames`` (no
    sequence file) only ``ED < ES`` and ``ES <= NbFrame`` are checked.
    Raises :class:`DatasetFormatError` naming ``info_path`` and the field.
    """
    ed, es = info['ED'], info['ES']
    seq = f' of {sequence_path}' if sequence_path else ''
    if num_frames is not None and 'NbFrame' in info and \
            info['NbFrame'] != num_frames:
        raise DatasetFormatError(
            info_path, f'says {info["NbFrame"]} frames but the sequence'
            f'{seq} has {num_frames} frames',
            field='NbFrame')
    n = num_frames if num_frames is not None else info.get('NbFrame')
    if n is not None:
        for key, value in (('ED', ed), ('ES', es)):
            if not 1 <= value <= n:
                raise DatasetFormatError(
                    info_path, f'frame {value} outside the sequence{seq} of '
                    f'{n} frames (expected 1..{n}, 1-based)',
                    field=key)
    if not ed < es:
        raise DatasetFormatError(
            info_path, 'expected ED before ES (1 <= ED < ES <= the number '
            f'of frames, 1-based), got ED={ed}, ES={es}',
            field='ED')


def read_camus_info(path: str, required=('ED', 'ES')) -> InfoDict:
    """Parse a CAMUS info file.

    ``ED``/``ES`` are 1-based frame numbers in the file; they are returned
    unchanged under those keys and 0-based as ``ed_index``/``es_index``.
    """
    if not osp.isfile(path):
        raise DatasetFormatError(
            path, 'info file not found (expected '
            '"Key: value" lines with ED, ES, NbFrame)')
    info: Dict[str, Union[int, float, str]] = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if ':' not in line:
                raise DatasetFormatError(
                    path, f'line {lineno}: expected "Key: value", got '
                    f'{line!r}')
            key, value = (s.strip() for s in line.split(':', 1))
            if key in _INT_KEYS:
                info[key] = _parse_int(path, key, value)
            elif key in _FLOAT_KEYS:
                try:
                    info[key] = float(value)
                except ValueError:
                    raise DatasetFormatError(
                        path, f'expected a number, got {value!r}', field=key)
            else:
                info[key] = value
    for key in required:
        if key not in info:
            raise DatasetFormatError(path, 'missing', field=key)
    for key in ('ED', 'ES'):
        if key in info:
            if info[key] < 1:
                raise DatasetFormatError(
                    path, f'expected a 1-based frame number >= 1, got '
                    f'{info[key]}',
                    field=key)
            info[key.lower() + '_index'] = info[key] - 1
    return info


def write_camus_info(path: str, info: Dict) -> None:
    """Write ``info`` as ``Key: value`` lines (atomically)."""
    from mmecho.utils import atomic_write_text
    lines = []
    for key, value in info.items():
        if key.endswith('_index'):
            continue
        if isinstance(value, float):
            value = f'{value:.2f}'
        lines.append(f'{key}: {value}')
    atomic_write_text(path, '\n'.join(lines) + '\n')
