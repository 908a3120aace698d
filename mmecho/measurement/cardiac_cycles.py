# Copyright (c) mmecho contributors. All rights reserved.
"""Find the cardiac cycles of an M-mode strip from a wall-motion signal."""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks


@dataclass
class Cycle:
    """One cardiac cycle: end-diastole and end-systole columns (pixels).

    ``next_ed_col`` is the next end-diastole's column (pixels), which ends
    this cycle (ED-to-ED = one RR interval); None when it is not measurable
    (outside the signal, too close to its end, or a gap in between).
    ``length`` is that interval to a fraction of a column
    (:func:`aligned_cycle_length`: the shift that best maps the waveform
    around this ED onto the one around the next ED); None when
    ``next_ed_col`` is None or the waveforms do not align.
    """
    ed_col: int
    es_col: int
    next_ed_col: Optional[int] = None
    length: Optional[float] = None


def estimate_period(signal: np.ndarray,
                    min_period: int = 20,
                    max_fraction: float = 0.7) -> Optional[float]:
    """Dominant period (columns) from the autocorrelation of ``signal``.

    Args:
        signal (np.ndarray): (W,) motion signal, NaN-free.
        min_period (int): Shortest period considered, in columns.
        max_fraction (float): Longest period as a fraction of W.

    Returns:
        float or None: the lag of the highest autocorrelation peak, or None
        when the signal shows no periodicity.
    """
    x = np.asarray(signal, np.float64)
    x = x - x.mean()
    n = len(x)
    if n < 3 * min_period or not np.any(x):
        return None
    ac = np.correlate(x, x, 'full')[n - 1:]
    ac /= ac[0]
    # unbiased: lags that overlap less get rescaled
    ac *= n / (n - np.arange(n))
    hi = int(n * max_fraction)
    peaks, props = find_peaks(ac[:hi], height=0.2)
    peaks = peaks[peaks >= min_period]
    if len(peaks) == 0:
        return None
    # the fundamental: the first peak nearly as strong as the strongest
    # (later peaks are its multiples)
    strong = peaks[ac[peaks] >= 0.6 * ac[peaks].max()]
    return float(strong[0])


def aligned_cycle_length(signal: np.ndarray,
                         ed: int,
                         next_ed: int,
                         valid: Optional[np.ndarray] = None,
                         search: float = 0.2) -> Optional[float]:
    """The ED-to-ED interval from ``ed`` to ``next_ed``, to a fraction of
    a column, from the whole waveform instead of two extremes.

    A window one interval long (``L0 = next_ed - ed`` columns) is compared
    with the same window shifted by ``L`` columns, for every ``L`` within
    ``search`` of ``L0``; the shift with the smallest variance of the
    difference (an offset between the cycles does not count) is refined
    with a parabola through its neighbours. The window is centred on
    ``ed`` (its ends in mid-diastole) when the signal holds it and the
    shift, else it is this cycle (``[ed, next_ed)``), else the one before
    (``[ed - L0, ed)``): ends at end-diastole, so a cycle-to-cycle change
    of amplitude does not bias the shift. An extreme on a flat or
    quantised top (a mask's edge rounded to whole pixels, the flat
    end-diastolic LA dimension) moves an ED column by several columns from
    cycle to cycle; the waveform's shift does not. A periodic signal of
    integer period gives that period exactly (the window is one period).

    Args:
        signal (np.ndarray): (W,) signal without NaN (gaps interpolated).
        ed, next_ed (int): the two ED columns.
        valid (np.ndarray, optional): (W,) bool, the measured columns:
            only pairs of measured columns are compared.
        search (float): shifts within ``(1 +- search) * L0``.

    Returns:
        float or None: the interval in columns; None when no window fits
        in the signal, or the best shift lies at the end of the searched
        range (the waveforms do not align).
    """
    x = np.asarray(signal, np.float64)
    n = len(x)
    m = int(next_ed) - int(ed)
    if m < 4:
        return None
    lo = max(int(np.floor(m * (1 - search))), 2)
    hi = int(np.ceil(m * (1 + search)))
    lags = np.arange(lo - 1, hi + 2)
    starts = [a for a in (int(ed) - m // 2, int(ed), int(ed) - m)
              if a >= 0 and a + m + lags[-1] <= n]
    if not starts:
        return None
    a = starts[0]
    ok = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    ref, ref_ok = x[a:a + m], ok[a:a + m]
    cost = np.full(len(lags), np.inf)
    for j, lag in enumerate(lags):
        both = ref_ok & ok[a + lag:a + lag + m]
        if both.sum() >= m // 2:
            cost[j] = np.var(ref[both] - x[a + lag:a + lag + m][both])
    j = int(np.argmin(cost))
    if j in (0, len(lags) - 1) or not np.isfinite(cost[j - 1:j + 2]).all():
        return None
    c_minus, c0, c_plus = cost[j - 1:j + 2]
    denom = c_minus - 2 * c0 + c_plus
    offset = 0.0 if denom <= 0 else float(
        np.clip(0.5 * (c_minus - c_plus) / denom, -0.5, 0.5))
    return float(lags[j]) + offset


def find_cycles(motion: np.ndarray,
                ed_at: str = 'max',
                period: Optional[float] = None,
                smooth: float = 1.5) -> List[Cycle]:
    """Cycles whose ED and ES both lie inside the signal.

    Args:
        motion (np.ndarray): (W,) signal, NaN where unmeasurable (gaps are
            not bridged: a cycle must be measurable from ED to ES).
        ed_at (str): ``'max'`` when ED is the maximum of the signal in each
            cycle (LV internal diameter), ``'min'`` when it is the minimum
            (LA dimension).
        period (float, optional): Known period in columns; estimated from
            the autocorrelation otherwise.
        smooth (float): Gaussian sigma (columns) applied before the search.

    Returns:
        list[Cycle]: in time order; ES is the extreme opposite to ED between
        an ED and the next one (or within one period after the last ED).
        ``next_ed_col`` is the following ED (also after the last complete
        cycle) when the signal is measurable up to it, it is the largest
        value within 0.15 periods on both sides (inside the signal) and it
        lies less than 1.8 periods away (a longer interval may hide a missed
        ED); None otherwise.
    """
    sig = np.asarray(motion, np.float64)
    valid = ~np.isnan(sig)
    if valid.sum() < 10:
        return []
    first, last = np.nonzero(valid)[0][[0, -1]]
    if first > 0 or last < len(sig) - 1:
        # work on the measurable span only (the strip), then shift back
        inner = find_cycles(sig[first:last + 1], ed_at, period, smooth)
        return [
            Cycle(c.ed_col + first, c.es_col + first,
                  None if c.next_ed_col is None else c.next_ed_col + first,
                  c.length) for c in inner
        ]
    filled = sig.copy()
    idx = np.arange(len(sig))
    filled[~valid] = np.interp(idx[~valid], idx[valid], sig[valid])
    s = gaussian_filter1d(filled, smooth) if smooth > 0 else filled
    if ed_at not in ('max', 'min'):
        raise ValueError("ed_at must be 'max' or 'min'")
    ed_sig = s if ed_at == 'max' else -s
    if period is None:
        period = estimate_period(s)
    if period is None:
        return []
    # robust swing: ignores the few columns where a mask frays at the edges
    amp = np.percentile(s, 95) - np.percentile(s, 5)
    # pad with the signal's minimum so that an ED close to the strip's edge
    # keeps its full prominence; a maximum *at* the edge is rejected below
    pad = int(period)
    padded = np.pad(ed_sig, pad, constant_values=ed_sig.min())
    eds, _ = find_peaks(
        padded, distance=max(int(0.6 * period), 1), prominence=0.25 * amp)
    eds = eds - pad
    eds = eds[(eds > 0) & (eds < len(s) - 1)]
    raw = filled if ed_at == 'max' else -filled

    def refine(i, sign, r=3):
        # the smoothed extreme, moved to the raw signal's extreme nearby
        lo, hi = max(i - r, 0), min(i + r + 1, len(raw))
        seg = raw[lo:hi] * sign
        return lo + int(np.argmax(seg))

    half_win = max(int(round(0.15 * period)), 1)

    def next_ed(i, ed):
        # the ED that ends the cycle starting at ``ed``: a clear peak with
        # the signal measurable up to it
        if i + 1 >= len(eds):
            return None
        peak = eds[i + 1]
        lo, hi = peak - half_win, peak + half_win + 1
        if lo < 0 or hi > len(s) or ed_sig[peak] < ed_sig[lo:hi].max():
            return None
        nxt = refine(peak, 1)
        if not (nxt > ed and valid[ed:nxt + 1].all()) or \
                nxt - ed >= 1.8 * period:
            return None
        return int(nxt)

    cycles = []
    for i, ed in enumerate(eds):
        # the last ED: look one period ahead, within the strip; a trough at
        # the window's end means the ES lies beyond the strip
        end = eds[i + 1] if i + 1 < len(eds) else min(
            int(ed + period),
            len(s) - 1)
        seg = ed_sig[ed:end + 1]
        es = ed + int(np.argmin(seg))
        if es in (ed, end):
            continue  # no trough inside: incomplete
        ed, es = refine(ed, 1), refine(es, -1)
        if not (valid[ed] and valid[es] and valid[ed:es + 1].all()):
            continue
        nxt = next_ed(i, ed)
        length = None if nxt is None else aligned_cycle_length(
            filled, ed, nxt, valid)
        cycles.append(Cycle(int(ed), int(es), nxt, length))
    return cycles
