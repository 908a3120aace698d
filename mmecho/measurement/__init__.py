# Copyright (c) mmecho contributors. All rights reserved.
from .simpson import (biplane_ef, disc_diameters, simpson_biplane_volume,
                      simpson_single_plane_volume)

__all__ = [
    'biplane_ef', 'disc_diameters', 'simpson_biplane_volume',
    'simpson_single_plane_volume'
]
