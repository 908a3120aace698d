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
    """
    ed_col: int
    es_col: int
    next_ed_col: Optional[int] = None


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
                  None if c.next_ed_col is None else c.next_ed_col + first)
            for c in inner
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
        cycles.append(Cycle(int(ed), int(es), next_ed(i, ed)))
    return cycles
