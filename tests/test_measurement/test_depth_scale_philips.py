"""The panel finder and the depth-scale reader on the Philips screen layout.

Facts read off two real Philips M-mode screen captures (1024 x 768 JPEG, as
RAMEM's public materials show them), redrawn here with numpy and this test
suite's own bitmap font (never with mmecho's phantom renderer):

- the M-mode panel spans rows ~341-735 and columns ~42-945; a thin grey line
  runs along its top edge at depth 0, with darker rows (the near field)
  under it; blood pools are black bands across the whole width;
- at every cm a short dash (x ~945-953) immediately followed by its numeral,
  so each reads ``-0``, ``-1`` ... ``-7`` (grey ~150-170, ~16 px high,
  single digits); a small grey dot at every half cm; the ``-0`` stands on
  the panel's top line; ~49.6 px/cm on one capture, ~44.6 px/cm on the
  other;
- a 2D sector inset and the scanner's measurement text above the panel, the
  depth (``8.1cm``) at the top left, short vertical time marks along the
  bottom edge, a vertical cursor line through the panel;
- exported screenshots carry overlays: caliper crosses with labels,
  coloured masks and their boxes, a box outline a few px from the scale.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pytest

from mmecho.measurement.mmode_calibration import (find_mmode_panel,
                                                  read_depth_scale_marks)

from .test_depth_scale_reader import FONT_5X7, fill_rows, jpeg, stamp

PANEL = (341, 736, 42, 945)  # top, bottom, left, right (half open)


def tall_text(text: str, height: int = 16, spacing: int = 2) -> np.ndarray:
    """(h, w) bool ink of ``text`` in the 5x7 font stretched to ``height``
    rows and 2x in width (a ~16 px sans-serif screen numeral)."""
    glyphs = []
    for ch in text:
        g = np.array([[c == '1' for c in row] for row in FONT_5X7[ch]], bool)
        cols = np.nonzero(g.any(0))[0]
        g = g[:, cols[0]:cols[-1] + 1]
        g = g[np.floor(np.arange(height) * 7 / height).astype(int)]
        glyphs.append(np.repeat(g, 2, axis=1))
    w = sum(g.shape[1] for g in glyphs) + spacing * (len(glyphs) - 1)
    out = np.zeros((height, w), bool)
    x = 0
    for g in glyphs:
        out[:, x:x + g.shape[1]] = g
        x += g.shape[1] + spacing
    return out


def _panel_texture(rng, h, w):
    """Speckle streaked along time (grey 40..200)."""
    noise = rng.rayleigh(1.0, size=(h, w + 14))
    k = np.ones(15) / 15.0
    streak = np.apply_along_axis(lambda r: np.convolve(r, k, 'valid'), 1,
                                 noise)
    lo, hi = np.percentile(streak, [1, 99])
    return 40 + 160 * np.clip((streak - lo) / (hi - lo), 0, 1)


def philips_capture(px_per_cm: float = 49.6,
                    panel: Tuple[int, int, int, int] = PANEL,
                    view: str = 'LV',
                    numeral_gap: int = 0,
                    overlays: Sequence[str] = (),
                    jpeg_quality: Optional[int] = 90,
                    seed: int = 0) -> Tuple[np.ndarray, Dict]:
    """A Philips-layout M-mode screen (BGR uint8) and what was drawn.

    Args:
        px_per_cm: rows per cm; cm ``k`` is at row ``top + k * px_per_cm``.
        view: 'LV' (black RV and LV cavities across the width) or 'AV'
            (black aortic lumen and left atrium).
        numeral_gap: columns between a dash's end and its numeral (0: the
            numeral touches the dash).
        overlays: any of 'masks' (translucent coloured masks over the
            cavities and their box outlines, one box running 3 px from the
            scale), 'yellow_masks' (yellow of opacity 0.6 over every cavity,
            the full width), 'calipers' (crosses with labels), 'label_on_numeral'
            (a caliper label over the 3 cm numeral), 'box_over_dashes' (a
            box outline drawn across the dashes).
    """
    rng = np.random.default_rng(seed)
    H, W = 768, 1024
    top, bottom, left, right = panel
    img = np.zeros((H, W, 3), np.uint8)
    h, w = bottom - top, right - left
    tex = _panel_texture(rng, h, w)
    rows = np.arange(h)[:, None]
    xs = np.arange(w)[None]
    period = w / 3.3
    beat = np.sin(2 * np.pi * xs / period)
    # the near field under the top line: dark, then the chest wall
    near = int(0.45 * px_per_cm)
    tex[:near] *= 0.08
    if view == 'LV':
        pools = [(1.3, 2.1, 0.10), (3.1, 6.3, 0.35)]  # RV, LV (cm, swing)
    else:
        pools = [(1.2, 1.9, 0.05), (2.6, 4.9, 0.25), (5.5, 7.6, 0.2)]
    pool_rows = []
    for a, b, swing in pools:
        ya = a * px_per_cm + swing * px_per_cm * beat
        yb = b * px_per_cm - swing * px_per_cm * beat
        inside = (rows >= ya) & (rows < yb)
        tex = np.where(inside, rng.uniform(0, 5, tex.shape), tex)
        pool_rows.append((top + ya[0], top + yb[0]))
    img[top:bottom, left:right] = np.clip(tex, 0, 255).astype(
        np.uint8)[..., None]
    ink = np.zeros((H, W), np.uint8)
    # the top line at depth 0 (it meets the "-0")
    ink[top, left:right] = 150
    # the sector inset and the scanner's text above the panel
    yy, xx = np.mgrid[0:290, 0:360]
    sector = (np.hypot(xx - 180, yy) < 285) & (np.abs(xx - 180) < 0.75 * yy)
    img[40:330, 330:690][sector] = rng.integers(30, 160, sector.sum(),
                                                np.uint8)[:, None]
    stamp(ink, tall_text('81', 14), 8, 20, 170)
    for i, word in enumerate(['IVSD 0547', 'LVIDD 4512', 'LVPWD 1020']):
        stamp(ink, tall_text(word.replace(' ', ''), 12, 1), 730, 60 + 20 * i,
              170)
    # the depth scale: "-k" at every cm, the numeral next to the dash
    dash0, dash1 = right, right + 9
    drawn = dict(numerals=[], dots=[], pools=pool_rows)
    depth = (bottom - 1 - top) / px_per_cm
    for cm in range(int(np.floor(depth)) + 1):
        y = top + cm * px_per_cm
        fill_rows(ink, y, 2, dash0, dash1, 160)
        stamp(ink, tall_text(str(cm)), dash1 + numeral_gap, y, 165)
        drawn['numerals'].append((cm, y))
        yh = y + px_per_cm / 2
        if yh < bottom - 1:
            fill_rows(ink, yh, 2, dash0 + 3, dash0 + 5, 150)
            drawn['dots'].append(yh)
    if cm == 0:
        raise ValueError('panel too shallow')
    # time marks along the bottom edge, the sweep speed and heart rate
    for x in range(left, right, 40):
        ink[bottom:bottom + (8 if (x - left) % 200 == 0 else 4), x] = 160
    stamp(ink, tall_text('100', 12, 1), left, bottom + 24, 170)
    canvas = np.maximum(img, ink[..., None])
    # a vertical cursor line through the panel
    cx = left + int(0.62 * w)
    canvas[top:bottom, cx] = (200, 200, 200)
    if 'masks' in overlays:
        for (a, b, _), colour in zip(pools, [(0, 0, 255), (255, 120, 0),
                                             (0, 200, 0)]):
            r0, r1 = top + int(a * px_per_cm), top + int(b * px_per_cm)
            c0, c1 = left + 120, right - 40
            sub = canvas[r0:r1, c0:c1].astype(np.float32)
            canvas[r0:r1, c0:c1] = (0.55 * sub + 0.45 * np.array(colour))
            box = (r0 - 4, r1 + 4, c0 - 4, c1 + 4)
            _box(canvas, box, colour)
        # a box whose right side runs 3 px from the scale's dashes
        _box(canvas, (top + int(2 * px_per_cm), top + int(5 * px_per_cm),
                      left + 300, right - 3), (0, 255, 255))
    if 'yellow_masks' in overlays:
        # yellow masks of opacity 0.6 over every cavity, the full width
        for (a, b, _), (ya, yb) in zip(pools, pool_rows):
            r = np.arange(H)[:, None]
            inside = (r >= ya[None]) & (r < yb[None])
            sub = canvas[:, left:right].astype(np.float32)
            sub[inside] = 0.4 * sub[inside] + 0.6 * np.array([0, 255, 255])
            canvas[:, left:right] = sub.astype(np.uint8)
    if 'calipers' in overlays:
        for i, (yc, xc) in enumerate([(top + 1.3 * px_per_cm, left + 400),
                                      (top + 3.1 * px_per_cm, left + 400),
                                      (top + 6.3 * px_per_cm, left + 650)]):
            yc = int(yc)
            canvas[yc, xc - 6:xc + 7] = (0, 255, 255)
            canvas[yc - 6:yc + 7, xc] = (0, 255, 255)
            lab = tall_text(str(i + 1), 12, 1)
            ys, xs_ = np.nonzero(lab)
            canvas[ys + yc - 18, xs_ + xc + 6] = (0, 255, 255)
    if 'label_on_numeral' in overlays:
        # a caliper label ("LVIDD") written over the 3 cm numeral
        y = int(round(top + 3 * px_per_cm))
        lab = tall_text('LVIDD', 12, 1)
        ys, xs_ = np.nonzero(lab)
        canvas[ys + y - 6, xs_ + dash1 - 2] = (0, 255, 255)
    if 'box_over_dashes' in overlays:
        # a box outline whose side runs across the dashes
        _box(canvas, (top + int(1.7 * px_per_cm), top + int(6.6 * px_per_cm),
                      left + 500, dash0 + 4), (0, 255, 0))
    if jpeg_quality is not None:
        canvas = jpeg(canvas, jpeg_quality)
    drawn.update(depth_cm=depth)
    return canvas, drawn


def _box(canvas, box, colour, thick=2):
    r0, r1, c0, c1 = box
    canvas[r0:r0 + thick, c0:c1] = colour
    canvas[r1 - thick:r1, c0:c1] = colour
    canvas[r0:r1, c0:c0 + thick] = colour
    canvas[r0:r1, c1 - thick:c1] = colour


def assert_philips_read(image, px_per_cm, panel=PANEL):
    found = find_mmode_panel(image)
    assert np.abs(np.subtract(found, panel)).max() <= 2, found
    r = read_depth_scale_marks(image)
    assert r.ok, r.status
    assert r.cm_per_px == pytest.approx(1 / px_per_cm, rel=0.005)
    assert r.numbering == 'every cm'
    truth = panel[0] + px_per_cm * np.arange(len(r.tick_rows))
    assert np.abs(r.tick_rows - truth).max() <= 1.0
    return r


@pytest.mark.parametrize('px_per_cm', [49.6, 44.6])
@pytest.mark.parametrize('view', ['LV', 'AV'])
@pytest.mark.parametrize('gap', [0, 1])
def test_philips_screen_is_read(px_per_cm, view, gap):
    image, drawn = philips_capture(px_per_cm, view=view, numeral_gap=gap)
    assert drawn['numerals'][-1][0] in (7, 8)
    r = assert_philips_read(image, px_per_cm)
    kinds = [k for _, k in r.marks]
    assert kinds.count('dot') >= 5


@pytest.mark.parametrize('overlays', [('masks', ), ('calipers', ),
                                      ('masks', 'calipers'),
                                      ('label_on_numeral', ),
                                      ('box_over_dashes', ),
                                      ('masks', 'calipers',
                                       'label_on_numeral')])
@pytest.mark.parametrize('quality', [90, 60])
def test_philips_screen_with_overlays(overlays, quality):
    image, _ = philips_capture(44.6, overlays=overlays, jpeg_quality=quality,
                               seed=3)
    assert_philips_read(image, 44.6)


def test_philips_panel_without_scale_says_where_it_looked():
    image, _ = philips_capture(49.6, jpeg_quality=None)
    top, bottom, left, right = PANEL
    image[:, right:] = 0  # the scale (and anything right of the panel) gone
    r = read_depth_scale_marks(image)
    assert not r.ok
    assert f'rows {top}-{bottom}' in r.status, r.status
    assert str(right) in r.status, r.status


def test_philips_scale_that_stops_half_way_is_refused():
    """Marks down to 5.5 cm only (numerals 0-5: numbered every cm), on a
    panel 7.9 cm deep: the scale does not describe this panel (a wrong
    panel, or a hidden scale), refused."""
    image, _ = philips_capture(49.6, jpeg_quality=None)
    top, bottom, left, right = PANEL
    image[int(top + 5.75 * 49.6):, right:] = 0
    r = read_depth_scale_marks(image)
    assert not r.ok
    assert 'above the panel bottom' in r.status, r.status


def test_philips_dashes_without_numerals_are_refused():
    image, _ = philips_capture(49.6, jpeg_quality=80)
    top, bottom, left, right = PANEL
    image[:, right + 10:] = 0  # the numerals gone, the dashes and dots kept
    r = read_depth_scale_marks(image)
    assert not r.ok
    assert 'numeral' in r.status, r.status
