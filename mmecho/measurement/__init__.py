# Copyright (c) mmecho contributors. All rights reserved.
from .agreement import agreement, bland_altman_figure
from .annotation_bands import iter_coco_bands
from .cardiac_cycles import Cycle, estimate_period, find_cycles
from .dicom_sr import (MMODE_SR_CODES, build_measurement_sr, read_sr_source,
                       sr_problem, write_measurement_sr)
from .mmode_calibration import (DepthScale, find_mmode_panel,
                                find_mmode_strip, read_depth_scale,
                                read_depth_scale_marks,
                                read_sidecar_cm_per_px)
from .mmode_indices import (ase_cube_lv_mass, lv_derived_indices,
                            teichholz_volume)
from .mmode_measurement import (AV_INDICATORS, DERIVED, LV_INDICATORS,
                                CycleMeasurement, MModeMeasurement, measure_av,
                                measure_lv, measure_mmode)
from .mmode_profiles import band_edges, fill_small_gaps, polygon_band_edges
from .simpson import (biplane_ef, biplane_volume_from_discs, disc_diameters,
                      simpson_biplane_volume, simpson_single_plane_volume)

__all__ = [
    'agreement', 'bland_altman_figure', 'iter_coco_bands', 'Cycle',
    'estimate_period', 'find_cycles', 'find_mmode_strip', 'read_depth_scale',
    'DepthScale', 'find_mmode_panel', 'read_depth_scale_marks',
    'read_sidecar_cm_per_px', 'ase_cube_lv_mass', 'lv_derived_indices',
    'teichholz_volume', 'AV_INDICATORS', 'DERIVED', 'LV_INDICATORS',
    'CycleMeasurement', 'MModeMeasurement', 'measure_av', 'measure_lv',
    'measure_mmode', 'band_edges', 'fill_small_gaps', 'polygon_band_edges',
    'biplane_ef', 'biplane_volume_from_discs', 'disc_diameters',
    'simpson_biplane_volume', 'simpson_single_plane_volume', 'MMODE_SR_CODES',
    'build_measurement_sr', 'read_sr_source', 'sr_problem',
    'write_measurement_sr'
]
