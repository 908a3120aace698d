# Copyright (c) mmecho contributors. All rights reserved.
"""Phantom datasets in the real on-disk formats, with known truth."""
from .camus_phantom import make_camus_phantom
from .meis_phantom import make_meis_phantom
from .mnms_phantom import make_mnms_phantom

PHANTOMS = dict(
    meis=make_meis_phantom, camus=make_camus_phantom, mnms=make_mnms_phantom)


def make_phantom(name: str, out_dir: str, **kwargs):
    """Generate the phantom ``name`` (``meis``, ``camus``, ``mnms``)."""
    if name not in PHANTOMS:
        raise ValueError(f'unknown phantom {name!r}, expected one of '
                         f'{sorted(PHANTOMS)}')
    return PHANTOMS[name](out_dir, **kwargs)


__all__ = [
    'make_phantom', 'make_meis_phantom', 'make_camus_phantom',
    'make_mnms_phantom', 'PHANTOMS'
]
