# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM: clinical measurements from M-mode masks, cycle by cycle.

LV type (IVS and LVPW bands): per column, septal thickness (IVS height),
LV internal diameter (gap between IVS bottom and LVPW top) and posterior
wall thickness (LVPW height), inner edge to inner edge. Each cardiac cycle
is found from the LV diameter: end-diastole (ED) at its maximum, end-systole
(ES) at the minimum before the next ED; IVSd/LVIDd/LVPWd are read at ED and
IVSs/LVIDs/LVPWs at ES of the same cycle.

AV type (AoR lumen and LA cavity): the cycles come from the LA dimension
(smallest at ED, largest at ES); AoR is read at ED, LA at ES.

Values are in pixels, and in cm when the cm-per-pixel calibration is known.
With a time calibration (seconds per pixel column, e.g. from a DICOM M-mode
region) each cycle also has a duration, ED to the next ED (one RR interval),
and a heart rate.
Failures never become zeros: the result has a status saying what is missing.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from .cardiac_cycles import Cycle, find_cycles
from .mmode_indices import lv_derived_indices
from .mmode_profiles import band_edges, fill_small_gaps


def _edges(band):
    """A mask (H, W) or precomputed ``(top, bottom)`` column edges."""
    if isinstance(band, tuple):
        return band
    return band_edges(band)


LV_INDICATORS = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs')
AV_INDICATORS = ('AoR', 'LA')
DERIVED = ('FS', 'EDV', 'ESV', 'EF', 'LVMass', 'RWT')
UNITS = dict(FS='%', EDV='ml', ESV='ml', EF='%', LVMass='g', RWT='')
#: measured vs DICOM heart rate: they disagree above this relative difference
HEART_RATE_TOLERANCE = 0.05


@dataclass
class CycleMeasurement:
    """One cycle: its ED/ES columns, the indicators in pixels, the calipers
    drawn for them: name -> (column, top row, bottom row), the column of
    the next ED, which ends the cycle (None when not measurable), and that
    interval to a fraction of a column from the aligned waveforms
    (``aligned_length_px``, see :func:`aligned_cycle_length`; None when
    unknown)."""
    ed_col: int
    es_col: int
    values_px: Dict[str, float]
    calipers: Dict[str, tuple] = field(default_factory=dict)
    next_ed_col: Optional[int] = None
    aligned_length_px: Optional[float] = None

    @property
    def length_px(self) -> Optional[int]:
        """ED to the next ED, in pixel columns (None when unknown)."""
        if self.next_ed_col is None:
            return None
        return self.next_ed_col - self.ed_col


@dataclass
class MModeMeasurement:
    """Result for one image.

    Attributes:
        image_type (str): ``'LV'``, ``'AV'`` or ``'unknown'``.
        status (str): ``'ok'`` or why (some) indicators are missing.
        cycles (list[CycleMeasurement]): every complete cycle.
        cm_per_px (float, optional): calibration; None = pixels only.
        calibration (str): where ``cm_per_px`` came from.
        s_per_px (float, optional): time per pixel column, in seconds; None
            = no time calibration (no durations, no heart rate).
        dicom_heart_rate_bpm (float, optional): the file's own Heart Rate
            (0018,1088), None when absent or unreadable.
        dicom_heart_rate_problem (str, optional): why the file's Heart Rate
            could not be used (malformed); None when absent or fine.
    """
    image_type: str
    status: str
    cycles: List[CycleMeasurement] = field(default_factory=list)
    cm_per_px: Optional[float] = None
    calibration: str = 'none'
    s_per_px: Optional[float] = None
    #: what the calibration used (overlay): ``panel`` (top, bottom, left,
    #: right) and, from a depth scale, ``tick_rows`` (1 cm rows, 0 cm
    #: first) and ``tick_columns`` (x0, x1)
    calibration_marks: Dict = field(default_factory=dict)
    dicom_heart_rate_bpm: Optional[float] = None
    dicom_heart_rate_problem: Optional[str] = None

    @property
    def indicators(self) -> tuple:
        return {
            'LV': LV_INDICATORS,
            'AV': AV_INDICATORS
        }.get(self.image_type, ())

    def mean_px(self, name: str) -> float:
        vals = [c.values_px[name] for c in self.cycles]
        return float(np.mean(vals)) if vals else float('nan')

    def sd_px(self, name: str) -> float:
        vals = [c.values_px[name] for c in self.cycles]
        return float(np.std(vals, ddof=1)) if len(vals) > 1 else float('nan')

    def mean_cm(self, name: str) -> float:
        if self.cm_per_px is None:
            return float('nan')
        return self.mean_px(name) * self.cm_per_px

    def duration_s(self, k: int) -> Optional[float]:
        """Duration of cycle ``k`` (its ED to the next ED) in seconds; None
        without time calibration or when the next ED is not measurable."""
        n = self.cycles[k].length_px
        if n is None or self.s_per_px is None:
            return None
        return n * self.s_per_px

    def cycle_heart_rate_bpm(self, k: int) -> Optional[float]:
        """Heart rate of cycle ``k`` in beats per minute: 60 / duration."""
        d = self.duration_s(k)
        return None if not d else 60.0 / d

    def cycle_length_px(self) -> float:
        """The cycle length (ED to the next ED) in pixel columns that the
        heart rate uses: the median over the cycles whose next ED is
        measurable of each one's aligned length (sub-pixel,
        ``aligned_length_px``; its integer ED-to-ED when the waveforms did
        not align). The median keeps one misplaced ED from moving it. NaN
        when no cycle has a length. Needs no time calibration."""
        lengths = [
            c.aligned_length_px
            if c.aligned_length_px is not None else c.length_px
            for c in self.cycles if c.length_px is not None
        ]
        if not lengths:
            return float('nan')
        return float(np.median(lengths))

    def heart_rate_bpm(self) -> float:
        """Heart rate in beats per minute: 60 / (:meth:`cycle_length_px`
        x ``s_per_px``); NaN without a time calibration or a cycle length.
        For cycles of equal length this is 60 / their mean duration."""
        n = self.cycle_length_px()
        if self.s_per_px is None or not np.isfinite(n) or n <= 0:
            return float('nan')
        return 60.0 / (n * self.s_per_px)

    def heart_rate_check(self, tolerance: float = HEART_RATE_TOLERANCE) -> str:
        """The measured heart rate against the file's own (DICOM Heart
        Rate): ``'agree'`` when |measured - DICOM| / DICOM <= ``tolerance``
        (5 %), ``'disagree: measured is +X.X % off the DICOM heart rate'``
        otherwise, ``'no DICOM heart rate'``, ``'DICOM heart rate
        unreadable: ...'`` or ``'no measured heart rate'`` (no time
        calibration or no cycle length). Never empty."""
        if self.dicom_heart_rate_problem:
            return f'DICOM heart rate unreadable: ' \
                f'{self.dicom_heart_rate_problem}'
        if self.dicom_heart_rate_bpm is None:
            return 'no DICOM heart rate'
        hr = self.heart_rate_bpm()
        if not np.isfinite(hr):
            return 'no measured heart rate'
        rel = (hr - self.dicom_heart_rate_bpm) / self.dicom_heart_rate_bpm
        if abs(rel) <= tolerance:
            return 'agree'
        return (f'disagree: measured is {100 * rel:+.1f} % off the DICOM '
                'heart rate')

    def derived(self) -> Dict[str, float]:
        """FS, Teichholz EDV/ESV/EF, ASE-cube LV mass, RWT (LV, in cm)."""
        if self.image_type != 'LV' or not self.cycles or \
                self.cm_per_px is None:
            return {k: float('nan') for k in DERIVED}
        cm = {k: self.mean_cm(k) for k in LV_INDICATORS}
        return lv_derived_indices(**cm)

    def as_row(self) -> Dict[str, object]:
        """Flat dict for ``measurements.csv`` (cm if calibrated, else px)."""
        row = dict(
            type=self.image_type,
            status=self.status,
            n_cycles=len(self.cycles),
            cm_per_px=''
            if self.cm_per_px is None else f'{self.cm_per_px:.6f}',
            calibration=self.calibration,
            unit='cm' if self.cm_per_px is not None else 'px')
        scale = self.cm_per_px if self.cm_per_px is not None else 1.0
        for name in LV_INDICATORS + AV_INDICATORS:
            if name in self.indicators and self.cycles:
                row[name] = f'{self.mean_px(name) * scale:.4f}'
                sd = self.sd_px(name)
                row[f'{name}_sd'] = '' if np.isnan(sd) else \
                    f'{sd * scale:.4f}'
            else:
                row[name] = row[f'{name}_sd'] = ''
        for k, v in self.derived().items():
            row[k] = '' if np.isnan(v) else f'{v:.3f}'
        hr = self.heart_rate_bpm()
        row['heart_rate_bpm'] = '' if np.isnan(hr) else f'{hr:.2f}'
        # appended after the older columns (tools/measure.py keeps them last)
        dicom = self.dicom_heart_rate_bpm
        row['dicom_heart_rate_bpm'] = '' if dicom is None else f'{dicom:g}'
        row['heart_rate_check'] = self.heart_rate_check()
        n = self.cycle_length_px()
        row['cycle_length_px'] = '' if np.isnan(n) else f'{n:.2f}'
        return row


def _thickness(top, bottom):
    return bottom - top


def measure_lv(ivs,
               lvpw,
               cm_per_px: Optional[float] = None,
               calibration: str = 'none') -> MModeMeasurement:
    """Measure an LV-type image from its IVS and LVPW bands.

    Args:
        ivs, lvpw: (H, W) masks (bool, or soft coverage in [0, 1]) or
            ``(top, bottom)`` per-column edges (see ``polygon_band_edges``).
        cm_per_px (float, optional): pixel size in depth, cm.
    """
    ivs_top, ivs_bot = _edges(ivs)
    pw_top, pw_bot = _edges(lvpw)
    ivs_top, ivs_bot, pw_top, pw_bot = (
        fill_small_gaps(v) for v in (ivs_top, ivs_bot, pw_top, pw_bot))
    res = MModeMeasurement(
        'LV', 'ok', cm_per_px=cm_per_px, calibration=calibration)
    if np.isnan(ivs_top).all() or np.isnan(pw_top).all():
        res.status = 'IVS or LVPW mask is empty'
        return res
    if np.nanmedian(pw_top) < np.nanmedian(ivs_bot):
        res.status = 'LVPW lies above IVS: contradictory structures'
        return res
    lvid = pw_top - ivs_bot
    lvid[lvid <= 0] = np.nan  # bands touching
    if np.isnan(lvid).all():
        res.status = 'IVS and LVPW never face each other in one column'
        return res
    for cyc in find_cycles(lvid, ed_at='max'):
        vals, cal = {}, {}
        for suffix, col in (('d', cyc.ed_col), ('s', cyc.es_col)):
            spans = dict(
                IVS=(ivs_top[col], ivs_bot[col]),
                LVID=(ivs_bot[col], pw_top[col]),
                LVPW=(pw_top[col], pw_bot[col]))
            for name, (y0, y1) in spans.items():
                vals[name + suffix] = float(y1 - y0)
                cal[name + suffix] = (col, float(y0), float(y1))
        if all(np.isfinite(v) for v in vals.values()):
            res.cycles.append(
                CycleMeasurement(cyc.ed_col, cyc.es_col, vals, cal,
                                 cyc.next_ed_col, cyc.length))
    if not res.cycles:
        res.status = 'no complete cardiac cycle found in the strip'
    return res


def measure_av(aor,
               la,
               cm_per_px: Optional[float] = None,
               calibration: str = 'none') -> MModeMeasurement:
    """Measure an AV-type image from its AoR-lumen and LA bands (masks or
    ``(top, bottom)`` edges, as :func:`measure_lv`)."""
    a_top, a_bot = (fill_small_gaps(v) for v in _edges(aor))
    l_top, l_bot = (fill_small_gaps(v) for v in _edges(la))
    aor_d = a_bot - a_top
    la_d = l_bot - l_top
    res = MModeMeasurement(
        'AV', 'ok', cm_per_px=cm_per_px, calibration=calibration)
    if np.isnan(la_d).all() or np.isnan(aor_d).all():
        res.status = 'AoR or LA mask is empty'
        return res
    if np.nanmedian(l_top) < np.nanmedian(a_bot):
        res.status = 'LA lies above the aortic root: contradictory structures'
        return res
    for cyc in find_cycles(la_d, ed_at='min'):
        ed, es = cyc.ed_col, cyc.es_col
        vals = dict(AoR=float(aor_d[ed]), LA=float(la_d[es]))
        cal = dict(
            AoR=(ed, float(a_top[ed]), float(a_bot[ed])),
            LA=(es, float(l_top[es]), float(l_bot[es])))
        if all(np.isfinite(v) for v in vals.values()):
            res.cycles.append(
                CycleMeasurement(ed, es, vals, cal, cyc.next_ed_col,
                                 cyc.length))
    if not res.cycles:
        res.status = 'no complete cardiac cycle found in the strip'
    return res


def measure_mmode(masks: Dict[str, np.ndarray],
                  cm_per_px: Optional[float] = None,
                  calibration: str = 'none',
                  s_per_px: Optional[float] = None) -> MModeMeasurement:
    """Decide the image type from the structures present and measure it.

    Args:
        masks (dict): class name -> (H, W) mask or ``(top, bottom)``
            edges, for the classes found (IVS, LVPW, LA, AoR); absent
            classes are left out.
        cm_per_px (float, optional): pixel size in depth, cm.
        calibration (str): where ``cm_per_px`` came from.
        s_per_px (float, optional): pixel size in time (columns), seconds.
    """
    res = _measure_mmode(masks, cm_per_px, calibration)
    res.s_per_px = s_per_px
    return res


def _measure_mmode(masks, cm_per_px, calibration) -> MModeMeasurement:
    lv = [k for k in ('IVS', 'LVPW') if k in masks]
    av = [k for k in ('LA', 'AoR') if k in masks]
    if len(lv) == 2 and not av:
        return measure_lv(masks['IVS'], masks['LVPW'], cm_per_px, calibration)
    if len(av) == 2 and not lv:
        return measure_av(masks['AoR'], masks['LA'], cm_per_px, calibration)
    if lv and av:
        status = (f'contradictory structures: {"+".join(lv)} (LV view) and '
                  f'{"+".join(av)} (AV view) in one image')
    elif lv:
        status = f'LV view but {({"IVS", "LVPW"} - set(lv)).pop()} missing'
    elif av:
        status = f'AV view but {({"LA", "AoR"} - set(av)).pop()} missing'
    else:
        status = 'no structure found'
    return MModeMeasurement(
        'unknown', status, cm_per_px=cm_per_px, calibration=calibration)


__all__ = [
    'Cycle', 'CycleMeasurement', 'MModeMeasurement', 'measure_lv',
    'measure_av', 'measure_mmode', 'LV_INDICATORS', 'AV_INDICATORS', 'DERIVED',
    'UNITS', 'HEART_RATE_TOLERANCE'
]
