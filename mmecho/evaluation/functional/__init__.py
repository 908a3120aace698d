# Copyright (c) mmecho contributors. All rights reserved.
from .outlier_criteria import OUTLIER_CRITERIA, OutlierCriteria
from .shape_descriptors import convexity, perimeter_mm, simplicity
from .surface_distance import (contour_points, dice,
                               directed_surface_distances, hausdorff_and_mad,
                               image_diagonal_mm)
from .temporal_smoothness import (area_curve, temporal_smoothness,
                                  temporal_smoothness_trapz)

__all__ = [
    'contour_points', 'directed_surface_distances', 'hausdorff_and_mad',
    'image_diagonal_mm', 'dice', 'convexity', 'simplicity', 'perimeter_mm',
    'OutlierCriteria', 'OUTLIER_CRITERIA', 'area_curve', 'temporal_smoothness',
    'temporal_smoothness_trapz'
]
