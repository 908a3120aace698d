"""Simpson's biplane rule (mmecho.measurement.simpson) against the closed-form
volume of ellipsoids, V = 4/3 pi a b c (prolate: c = b, long semi-axis a).

The masks are drawn here (pixel centres inside the ellipse), independently
of mmecho's phantom code. A plane through the long axis of an ellipsoid cuts
it along an ellipse with the semi-axes a and b (A4C) or a and c (A2C), so
the method of discs should give V up to two discretisations:

* the discs: the midpoint rule on the quadratic cross-section area
  pi b c (1 - s^2) over N discs overestimates the volume by exactly
  1 / (2 N^2) (2 % at 5 discs, 0.5 % at 10, 0.125 % at the standard 20);
* the pixels: at 0.3 mm pixels the diameters (>= 24 mm) and lengths are
  known to about one pixel, i.e. ~1 % per diameter, less after the sum.
"""
import numpy as np
import pytest

from mmecho.measurement.simpson import (biplane_volume_from_discs,
                                        disc_diameters,
                                        simpson_biplane_volume)

SHAPE = (400, 400)


def ellipse_mask(a_mm, b_mm, angle_deg, spacing, shape=SHAPE):
    """Pixels whose centre lies in the ellipse of semi-axes ``a_mm`` (long
    axis, rotated ``angle_deg`` from the image rows towards the columns) and
    ``b_mm``, centred in the image."""
    sy, sx = spacing
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    y = (yy + 0.5) * sy - h * sy / 2
    x = (xx + 0.5) * sx - w * sx / 2
    t = np.deg2rad(angle_deg)
    u = y * np.cos(t) + x * np.sin(t)
    v = -y * np.sin(t) + x * np.cos(t)
    return (u / a_mm)**2 + (v / b_mm)**2 <= 1.0


def ellipsoid_ml(a, b, c):
    return 4.0 / 3.0 * np.pi * a * b * c / 1000.0


def volume(mask4, mask2, spacing, n):
    a, la = disc_diameters(mask4, spacing, num_discs=n)
    b, lb = disc_diameters(mask2, spacing, num_discs=n)
    return biplane_volume_from_discs(a, la, b, lb)


# (a, b, c) mm: sizes 12-33 mm short semi-axes, axis ratios 1.2-2.5,
# the A4C and A2C masks rotated differently, square and non-square pixels
CASES = [
    ((45, 22, 22), (0, 0), (0.3, 0.3)),
    ((45, 22, 22), (20, -35), (0.3, 0.25)),
    ((40, 28, 28), (45, 10), (0.3, 0.3)),
    ((30, 12, 12), (75, 60), (0.3, 0.3)),
    ((50, 33, 33), (-30, 90), (0.3, 0.25)),
    ((38, 25, 19), (15, -15), (0.3, 0.3)),  # triaxial: A4C b, A2C c
]


@pytest.mark.parametrize('axes,angles,spacing', CASES)
def test_twenty_discs_give_the_ellipsoid_volume(axes, angles, spacing):
    a, b, c = axes
    m4 = ellipse_mask(a, b, angles[0], spacing)
    m2 = ellipse_mask(a, c, angles[1], spacing)
    v = simpson_biplane_volume(m4, spacing, m2, spacing)  # 20 discs
    exact = ellipsoid_ml(a, b, c)
    assert v == pytest.approx(exact * (1 + 1 / 800), rel=0.015)
    # the long axis is found whatever the rotation
    _, length = disc_diameters(m4, spacing)
    assert length == pytest.approx(2 * a, abs=2 * max(spacing))


def test_error_follows_the_disc_count():
    """The mean signed error over the cases is the midpoint-rule bias
    1 / (2 N^2) and shrinks with N (5, 10, 20 discs); beyond that the pixels
    dominate."""
    errors = {5: [], 10: [], 20: []}
    for (a, b, c), angles, spacing in CASES:
        m4 = ellipse_mask(a, b, angles[0], spacing)
        m2 = ellipse_mask(a, c, angles[1], spacing)
        exact = ellipsoid_ml(a, b, c)
        for n in errors:
            errors[n].append(volume(m4, m2, spacing, n) / exact - 1)
    mean = {n: float(np.mean(e)) for n, e in errors.items()}
    mean_abs = {n: float(np.mean(np.abs(e))) for n, e in errors.items()}
    for n in errors:
        assert mean[n] == pytest.approx(1 / (2 * n * n), abs=0.005)
    assert mean_abs[5] > mean_abs[10] > mean_abs[20]
    assert mean_abs[20] < 0.005


def test_scaling_and_spacing():
    """Doubling every length multiplies the volume by 8; the same ellipse
    drawn at a different pixel size gives the same volume."""
    small = ellipse_mask(20, 10, 30, (0.3, 0.3))
    big = ellipse_mask(40, 20, 30, (0.3, 0.3))
    v_small = simpson_biplane_volume(small, (0.3, 0.3), small, (0.3, 0.3))
    v_big = simpson_biplane_volume(big, (0.3, 0.3), big, (0.3, 0.3))
    assert v_big / v_small == pytest.approx(8.0, rel=0.03)
    coarse = ellipse_mask(40, 20, 30, (0.6, 0.6), shape=(200, 200))
    v_coarse = simpson_biplane_volume(coarse, (0.6, 0.6), coarse, (0.6, 0.6))
    assert v_coarse == pytest.approx(ellipsoid_ml(40, 20, 20) * 1.00125,
                                     rel=0.03)
    assert v_big == pytest.approx(ellipsoid_ml(40, 20, 20) * 1.00125,
                                  rel=0.015)
