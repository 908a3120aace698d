"""The AMEM overlay shows what a clinician needs to check a row: the panel
that was found, the 1 cm ticks that calibrated it, the calipers and values."""
import numpy as np

from mmecho.measurement import CycleMeasurement, MModeMeasurement
from mmecho.visualization import draw_mmode_measurement


def _result(cm_per_px, marks):
    cyc = CycleMeasurement(
        ed_col=200,
        es_col=260,
        values_px=dict(IVSd=20.0, LVIDd=100.0, LVPWd=22.0, IVSs=30.0,
                       LVIDs=70.0, LVPWs=32.0),
        calipers=dict(IVSd=(200, 150.0, 170.0), LVIDd=(200, 170.0, 270.0)))
    r = MModeMeasurement('LV', 'ok', [cyc], cm_per_px=cm_per_px,
                         calibration='depth scale' if cm_per_px else 'none')
    r.calibration_marks = marks
    return r


def test_panel_ticks_and_calipers_are_drawn():
    image = np.zeros((480, 640, 3), np.uint8)
    marks = dict(panel=(100, 400, 50, 560), tick_rows=[100.0, 140.0, 180.0],
                 tick_columns=(565, 574))
    out = draw_mmode_measurement(image, _result(0.025, marks))
    assert out.shape == image.shape and not np.shares_memory(out, image)
    # green panel border where the panel was found (calibrated)
    assert (out[100, 300] == (0, 200, 0)).all()
    assert (out[250, 50] == (0, 200, 0)).all()
    # a tick line at each 1 cm row read, across the tick columns
    for y in (100, 140, 180):
        assert out[y, 568].max() > 200
    assert out[120, 568].max() == 0  # nothing between the ticks
    # the caliper of IVSd at its column
    assert out[160, 200].max() > 0
    # the values are written (text pixels in the bottom lines)
    assert out[-60:, :300].max() > 0


def test_refused_scale_draws_a_red_panel_and_no_ticks():
    image = np.zeros((480, 640, 3), np.uint8)
    out = draw_mmode_measurement(image, _result(None, dict(
        panel=(100, 400, 50, 560))))
    assert (out[100, 300] == (0, 0, 230)).all()
    assert out[140, 568].max() == 0
