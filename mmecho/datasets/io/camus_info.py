# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS ``Info_{2CH,4CH}.cfg`` files (``Key: value`` lines)."""
import os.path as osp
from typing import Dict, Union

from .errors import DatasetFormatError

_INT_KEYS = ('ED', 'ES', 'NbFrame', 'Age')
_FLOAT_KEYS = ('EF', 'LVedv', 'LVesv', 'LVef', 'FrameRate')

InfoDict = Dict[str, Union[int, float, str]]


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
                try:
                    info[key] = int(float(value))
                except ValueError:
                    raise DatasetFormatError(
                        path, f'expected an integer, got {value!r}', field=key)
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
