# Copyright (c) mmecho contributors. All rights reserved.
"""Atomic file output: write to a temporary file beside the target, then
``os.replace`` it, so an interrupted run never leaves a half-written file.

``tempfile.mkstemp`` creates its file with mode 0600; the final file gets the
mode a plain ``open(path, 'w')`` would give it, ``0o666 & ~umask``.
"""
import contextlib
import os
import os.path as osp
import tempfile
import threading
from typing import Iterator

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without a window where it is changed when
    the kernel reports it (Linux >= 4.7: ``/proc/self/status``), else by
    setting and restoring it under a lock."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'wb') -> Iterator:
    """Open a temporary file that replaces ``path`` when the block exits
    without an exception (and is deleted otherwise).

    With ``mode=None`` the block gets the temporary path instead of an
    open file (for writers that take a path). The temporary name keeps
    ``path``'s suffix(es) so that writers which choose a format from the
    extension (nibabel, OpenCV) still work. The final file has mode
    ``0o666 & ~umask``, as ``open()`` would give it.
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
        if osp.exists(tmp):
            # the writer may have replaced the file: chmod what is there
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, 'w') as f:
        f.write(text)
