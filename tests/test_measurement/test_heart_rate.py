"""Cycle durations (ED to the next ED) and heart rate of M-mode results."""
import numpy as np
import pytest

from mmecho.measurement import find_cycles, measure_mmode


def lvid_signal(period, n=900, offset=17):
    x = np.arange(n)
    phase = ((x - offset) % period) / period
    w = np.where(phase < 0.35, 0.5 * (1 - np.cos(np.pi * phase / 0.35)),
                 0.5 * (1 + np.cos(np.pi * (phase - 0.35) / 0.65)))
    return 100 - 30 * w


@pytest.mark.parametrize('period', [60, 110, 180, 260])
def test_next_ed_is_one_period_later(period):
    cycles = find_cycles(lvid_signal(period), ed_at='max')
    assert cycles
    for a, b in zip(cycles, cycles[1:]):
        assert a.next_ed_col == b.ed_col
    for c in cycles:
        if c.next_ed_col is not None:
            assert abs(c.next_ed_col - c.ed_col - period) <= 1
    # the last complete cycle ends at an ED whose own ES is outside: still
    # measurable when that ED lies well inside the signal
    last = cycles[-1]
    following = last.ed_col + period
    if following + 0.15 * period < 899:
        assert last.next_ed_col is not None
    else:
        assert last.next_ed_col is None


def test_a_gap_before_the_next_ed_leaves_the_duration_unknown():
    sig = lvid_signal(180)
    cycles = find_cycles(sig, ed_at='max')
    c = cycles[0]
    sig[c.es_col + 20] = np.nan  # unmeasurable between ES and the next ED
    cut = find_cycles(sig, ed_at='max')
    first = next(k for k in cut if k.ed_col == c.ed_col)
    assert first.next_ed_col is None


def test_heart_rate_from_a_time_calibration():
    period, s_per_px = 180, 0.005  # 0.9 s per beat: 66.7 bpm
    lvid = lvid_signal(period)
    rows = np.arange(300)[:, None]
    ivs_bot = np.full(900, 100.0)
    ivs = (rows >= 90) & (rows < ivs_bot[None])
    pw_top = ivs_bot + lvid
    lvpw = (rows >= pw_top[None]) & (rows < pw_top[None] + 10)
    r = measure_mmode({'IVS': ivs, 'LVPW': lvpw}, 0.04, 'given', s_per_px)
    assert r.status == 'ok' and r.s_per_px == s_per_px
    durations = [r.duration_s(k) for k in range(len(r.cycles))]
    known = [d for d in durations if d is not None]
    assert known and all(d == pytest.approx(0.9, abs=0.006) for d in known)
    assert r.heart_rate_bpm() == pytest.approx(60 / np.mean(known))
    assert r.heart_rate_bpm() == pytest.approx(66.67, rel=0.01)
    assert r.cycle_heart_rate_bpm(0) == pytest.approx(60 / known[0])
    assert float(r.as_row()['heart_rate_bpm']) == pytest.approx(
        r.heart_rate_bpm(), abs=0.005)
    # no time calibration: no durations, a blank heart rate
    r = measure_mmode({'IVS': ivs, 'LVPW': lvpw}, 0.04)
    assert r.duration_s(0) is None and np.isnan(r.heart_rate_bpm())
    assert r.as_row()['heart_rate_bpm'] == ''
