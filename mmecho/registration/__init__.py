# Copyright (c) mmecho contributors. All rights reserved.
"""Image registration for label propagation (issue 7, paper 001).

Functional parts shared by the registration models
(:mod:`mmecho.models.registrators`), the pseudo-label tool and the tests:
warping and composing displacement fields, the cubic B-spline
transformation model, NCC (global and local), bending / diffusion energy,
sequential label propagation and the bidirectional fusion of Eq. 1.
"""
from .bidirectional_fusion import (close_labels, fuse_bidirectional,
                                   fusion_weights, signed_distance)
from .bspline import (BSPLINE_CONVENTIONS, BSplineTransformer,
                      cubic_bspline)
from .errors import NonFiniteError, check_finite
from .label_propagation import MODES, propagate_labels, propagation_fields
from .regularization import bending_energy, diffusion_energy
from .similarity import local_ncc, normalized_cross_correlation
from .spatial_transform import (compose, integrate_velocity,
                                resize_displacement, warp)

__all__ = [
    'warp', 'compose', 'resize_displacement', 'integrate_velocity',
    'BSplineTransformer', 'BSPLINE_CONVENTIONS', 'cubic_bspline',
    'normalized_cross_correlation', 'local_ncc',
    'bending_energy', 'diffusion_energy', 'fusion_weights', 'signed_distance',
    'close_labels', 'fuse_bidirectional', 'propagate_labels',
    'propagation_fields', 'MODES', 'NonFiniteError', 'check_finite'
]
