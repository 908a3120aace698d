# Copyright (c) mmecho contributors. All rights reserved.
"""Atomic file output: write to a temporary file beside the target, then
``os.replace`` it, so an interrupted run never leaves a half-written file."""
import contextlib
import os
import os.path as osp
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'wb') -> Iterator:
    """Open a temporary file that replaces ``path`` when the block exits
    without an exception (and is deleted otherwise).

    The temporary name keeps ``path``'s suffix(es) so that writers which
    choose a format from the extension (nibabel, OpenCV) still work.
    """
    path = osp.abspath(path)
    directory = osp.dirname(path)
    os.makedirs(directory, exist_ok=True)
    base = osp.basename(path)
    suffix = base[base.find('.'):] if '.' in base else ''
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{base}.', suffix=f'.tmp{suffix}', dir=directory)
    os.close(fd)
    try:
        if mode is None:
            yield tmp
        else:
            with open(tmp, mode) as f:
                yield f
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, 'w') as f:
        f.write(text)
