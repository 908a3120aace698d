"""The M-mode depth-scale reader on screens drawn here with numpy only.

The phantom renderer (``mmecho.phantoms.mmode_screen``) draws its
numerals with OpenCV's Hershey fonts, and the reader was tuned on it. These
screens are built independently: speckle streaked along time, dashes drawn
with sub-pixel-correct (area-coverage) rows at non-integer pixels per cm,
numerals from a bitmap digit font of our own, half-cm dots, JPEG round trips
(cv2 is used for the JPEG coding only).
"""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import pytest

from mmecho.apis import MModeMeasurer
from mmecho.measurement.mmode_calibration import (find_mmode_panel,
                                                  read_depth_scale,
                                                  read_depth_scale_marks)

# --------------------------------------------------------------------------
# our own bitmap digit fonts (1 = ink), every glyph 8-connected
# --------------------------------------------------------------------------
FONT_5X7 = {
    '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
    '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
    '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
    '3': ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
    '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
    '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
    '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
    '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
    '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
    '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
    # letters, for text lines beside the panel (not a scale)
    'A': ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
    'D': ['11110', '10001', '10001', '10001', '10001', '10001', '11110'],
    'I': ['01110', '00100', '00100', '00100', '00100', '00100', '01110'],
    'L': ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
    'P': ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
    'S': ['01111', '10000', '10000', '01110', '00001', '00001', '11110'],
    'V': ['10001', '10001', '10001', '10001', '10001', '01010', '00100'],
    'W': ['10001', '10001', '10001', '10101', '10101', '10101', '01010'],
}
FONT_3X5 = {
    '0': ['111', '101', '101', '101', '111'],
    '1': ['010', '110', '010', '010', '111'],
    '2': ['111', '001', '111', '100', '111'],
    '3': ['111', '001', '111', '001', '111'],
    '4': ['101', '101', '111', '001', '001'],
    '5': ['111', '100', '111', '001', '111'],
    '6': ['111', '100', '111', '101', '111'],
    '7': ['111', '001', '001', '001', '001'],
    '8': ['111', '101', '111', '101', '111'],
    '9': ['111', '101', '111', '001', '111'],
}
FONTS = {'5x7': FONT_5X7, '3x5': FONT_3X5}


def glyph_bitmap(ch: str, font: Dict, scale: int) -> np.ndarray:
    """(h, w) bool ink of one glyph, trimmed to its inked columns (a '1'
    is narrower than a '0', as in proportional screen fonts)."""
    g = np.array([[c == '1' for c in row] for row in font[ch]], bool)
    cols = np.nonzero(g.any(0))[0]
    g = g[:, cols[0]:cols[-1] + 1]
    return np.kron(g, np.ones((scale, scale), bool))


def text_bitmap(text: str,
                font: Dict,
                scale: int = 2,
                spacing: int = 2) -> np.ndarray:
    """(h, w) bool ink of a string of glyphs, ``spacing`` px apart."""
    glyphs = [glyph_bitmap(c, font, scale) for c in text]
    h = max(g.shape[0] for g in glyphs)
    w = sum(g.shape[1] for g in glyphs) + spacing * (len(glyphs) - 1)
    out = np.zeros((h, w), bool)
    x = 0
    for g in glyphs:
        out[:g.shape[0], x:x + g.shape[1]] = g
        x += g.shape[1] + spacing
    return out


def stamp(canvas: np.ndarray, ink: np.ndarray, x0: int, yc: float,
          grey: int) -> Tuple[int, int]:
    """Paint ``ink`` with its left column at ``x0``, vertically centred on
    row ``yc``; returns its (x0, x1) columns (x1 exclusive)."""
    h, w = ink.shape
    y0 = int(round(yc - (h - 1) / 2))
    H, W = canvas.shape[:2]
    ys, xs = np.nonzero(ink)
    ys, xs = ys + y0, xs + x0
    keep = (ys >= 0) & (ys < H) & (xs >= 0) & (xs < W)
    canvas[ys[keep], xs[keep]] = grey
    return x0, x0 + w


def fill_rows(canvas: np.ndarray, yc: float, thick: float, x0: int, x1: int,
              grey: int) -> None:
    """A filled rectangle covering rows ``[yc - thick/2, yc + thick/2]``
    (pixel ``r`` spans ``[r - 0.5, r + 0.5]``) and columns ``[x0, x1)``;
    partly covered rows get the covered share of ``grey`` (sub-pixel
    correct: its intensity-weighted centre row is ``yc``)."""
    lo, hi = yc - thick / 2.0, yc + thick / 2.0
    H, W = canvas.shape[:2]
    x0, x1 = max(x0, 0), min(x1, W)
    for r in range(int(np.floor(lo + 0.5)), int(np.ceil(hi + 0.5)) + 1):
        if not 0 <= r < H:
            continue
        cover = min(hi, r + 0.5) - max(lo, r - 0.5)
        if cover <= 0:
            continue
        value = int(round(grey * min(cover, 1.0)))
        canvas[r, x0:x1] = np.maximum(canvas[r, x0:x1], value)


def draw_panel(canvas: np.ndarray,
               rect: Tuple[int, int, int, int],
               rng: np.random.Generator,
               bands: int = 2) -> None:
    """M-mode speckle in ``rect`` = (top, bottom, left, right), half open:
    Rayleigh noise smoothed along time (running mean over 15 columns),
    grey 40..220, with dark, noisy, moving blood-pool bands (grey ~15-30)."""
    top, bottom, left, right = rect
    h, w = bottom - top, right - left
    noise = rng.rayleigh(1.0, size=(h, w + 14))
    kernel = np.ones(15) / 15.0
    streak = np.apply_along_axis(
        lambda r: np.convolve(r, kernel, mode='valid'), 1, noise)
    lo, hi = np.percentile(streak, [1, 99])
    img = 40 + 180 * np.clip((streak - lo) / (hi - lo), 0, 1)
    # blood pools: dark bands whose rows move with the heart beat
    xs = np.arange(w)
    for b in range(bands):
        centre = h * (0.3 + 0.4 * b / max(bands - 1, 1))
        half = h * 0.07
        period = rng.uniform(0.3, 0.5) * w
        move = 0.04 * h * np.sin(2 * np.pi * xs / period +
                                 rng.uniform(0, 6.28))
        rows = np.arange(h)[:, None]
        inside = np.abs(rows - (centre + move)[None]) < half
        pool = rng.uniform(15, 30, size=(h, w)) + rng.normal(0, 4, (h, w))
        img = np.where(inside, pool, img)
    img = np.clip(img, 0, 255).astype(np.uint8)
    canvas[top:bottom, left:right] = img[..., None]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def make_capture(size: Tuple[int, int] = (768, 1024),
                 panel: Tuple[int, int, int, int] = (120, 620, 150, 860),
                 px_per_cm: float = 37.3,
                 side: str = 'right',
                 scale: bool = True,
                 tick_grey: int = 140,
                 tick_len: int = 9,
                 tick_thick: float = 3,
                 tick_gap: int = 6,
                 numerals: Optional[str] = 'every_cm',
                 numeral_grey: int = 200,
                 numeral_gap: int = 3,
                 font: str = '5x7',
                 font_scale: int = 2,
                 glyph_spacing: int = 2,
                 odd_cm: str = 'dash',
                 half_dots: bool = False,
                 dot_size: int = 2,
                 drop_dash: Sequence[int] = (),
                 drop_numeral: Sequence[int] = (),
                 jpeg_quality: Optional[int] = None,
                 seed: int = 0) -> Tuple[np.ndarray, Dict]:
    """A synthetic M-mode screen capture (BGR uint8) and what was drawn.

    Args:
        size: (H, W) of the black canvas.
        panel: (top, bottom, left, right) of the M-mode panel, half open.
        px_per_cm: rows per cm of depth; cm ``k`` is at row
            ``top + k * px_per_cm`` (0 cm at the panel's top row).
        side: 'right' or 'left' of the panel.
        scale: False draws the panel only.
        numerals: 'every_cm', 'every_2cm' (even cm only) or None.
        odd_cm: with numerals every 2 cm, what marks the odd cm: 'dash'
            (an unnumbered dash), 'dot' or 'none'.
        half_dots: a small square at every half cm.
        drop_dash / drop_numeral: cm whose dash / numeral is not drawn.
    """
    rng = np.random.default_rng(seed)
    H, W = size
    top, bottom, left, right = panel
    canvas = np.zeros((H, W, 3), np.uint8)
    draw_panel(canvas, panel, rng)
    depth = (bottom - 1 - top) / px_per_cm
    n_cm = int(np.floor(depth + 1e-9)) + 1
    ink = np.zeros((H, W), np.uint8)
    s = 1 if side == 'right' else -1
    if s > 0:
        dx0 = right + tick_gap
    else:
        dx0 = left - tick_gap - tick_len
    dx1 = dx0 + tick_len
    fnt = FONTS[font]
    drawn = dict(dash_rows=[], numerals=[], dots=[])
    for cm in range(n_cm if scale else 0):
        y = top + cm * px_per_cm
        numbered = numerals == 'every_cm' or (numerals == 'every_2cm'
                                              and cm % 2 == 0)
        odd_mark = 'dash' if numbered or numerals != 'every_2cm' else odd_cm
        if cm not in drop_dash:
            if odd_mark == 'dash':
                fill_rows(ink, y, tick_thick, dx0, dx1, tick_grey)
                drawn['dash_rows'].append(y)
            elif odd_mark == 'dot':
                c = (dx0 + dx1) // 2 - dot_size // 2
                fill_rows(ink, y, dot_size, c, c + dot_size, tick_grey)
                drawn['dots'].append(y)
        if numbered and numerals and cm not in drop_numeral:
            bm = text_bitmap(str(cm), fnt, font_scale, glyph_spacing)
            if s > 0:
                x = dx1 + numeral_gap
            else:
                x = dx0 - numeral_gap - bm.shape[1]
            stamp(ink, bm, x, y, numeral_grey)
            drawn['numerals'].append((cm, y))
        if half_dots and top + (cm + 0.5) * px_per_cm <= bottom - 1:
            yh = top + (cm + 0.5) * px_per_cm
            c = (dx0 + dx1) // 2 - dot_size // 2
            fill_rows(ink, yh, dot_size, c, c + dot_size, tick_grey)
            drawn['dots'].append(yh)
    canvas = np.maximum(canvas, ink[..., None])
    if jpeg_quality is not None:
        canvas = jpeg(canvas, jpeg_quality)
    drawn.update(n_cm=n_cm, depth_cm=depth, dash_cols=(dx0, dx1))
    return canvas, drawn


def paste_marks(image: np.ndarray, ink: np.ndarray,
                jpeg_quality: Optional[int]) -> np.ndarray:
    out = np.maximum(image, ink[..., None])
    return out if jpeg_quality is None else jpeg(out, jpeg_quality)


def text_column(
        size=(768, 1024),
        panel=(120, 620, 150, 860),
        step=24.0,
        jpeg_quality=None,
        seed=5) -> np.ndarray:
    """A panel with measurement text beside it instead of a scale: lines of
    a short dash followed by 4-5 glyphs ("-LVIDD", "-4512", ...), one every
    ``step`` rows."""
    image, _ = make_capture(size, panel, scale=False, seed=seed)
    ink = np.zeros(image.shape[:2], np.uint8)
    words = ['LVIDD', '4512', 'IVSD', '0918', 'LVPWD', '1020', 'AVSP']
    top, bottom, left, right = panel
    y = top + 10.0
    i = 0
    while y < bottom - 10:
        fill_rows(ink, y, 2, right + 6, right + 14, 200)
        stamp(ink, text_bitmap(words[i % len(words)], FONT_5X7), right + 17, y,
              200)
        y += step
        i += 1
    return paste_marks(image, ink, jpeg_quality)


def irregular_marks(seed: int,
                    jpeg_quality=None,
                    panel=(120, 620, 150, 860)) -> np.ndarray:
    """Dashes with numerals 0, 1, 2, ... at random rows beside the panel."""
    image, _ = make_capture(panel=panel, scale=False, seed=seed)
    rng = np.random.default_rng(100 + seed)
    top, bottom, left, right = panel
    ink = np.zeros(image.shape[:2], np.uint8)
    rows = np.sort(rng.uniform(top, bottom - 1, 12))
    for i, y in enumerate(rows):
        fill_rows(ink, y, 3, right + 6, right + 15, 140)
        stamp(ink, text_bitmap(str(i), FONT_5X7), right + 18, y, 200)
    return paste_marks(image, ink, jpeg_quality)


def assert_reads(image: np.ndarray,
                 px_per_cm: float,
                 panel: Tuple[int, int, int, int],
                 numbering: str = None):
    """The reader gives 1 / px_per_cm within 0.5 %, the panel within 2 px,
    whole-cm tick rows within 1 px of where they were drawn."""
    r = read_depth_scale_marks(image)
    assert r.ok, r.status
    assert r.status == 'ok'
    assert r.cm_per_px == pytest.approx(1.0 / px_per_cm, rel=0.005)
    assert read_depth_scale(image) == r.cm_per_px
    assert r.panel is not None
    assert np.abs(np.subtract(r.panel, panel)).max() <= 2, (r.panel, panel)
    truth_rows = panel[0] + px_per_cm * np.arange(len(r.tick_rows))
    assert len(r.tick_rows) >= 3
    assert np.abs(r.tick_rows - truth_rows).max() <= 1.0
    if numbering is not None:
        assert r.numbering == numbering
    return r


def assert_refused(image: np.ndarray):
    """None with a reason, never a number, never an exception."""
    r = read_depth_scale_marks(image)
    assert r.cm_per_px is None, (r.cm_per_px, r.status)
    assert not r.ok
    assert isinstance(r.status, str) and r.status and r.status != 'ok'
    assert read_depth_scale(image) is None
    return r


# --------------------------------------------------------------------------
# scales that must be read
# --------------------------------------------------------------------------


def test_philips_like_scale_with_half_cm_dots_jpeg75():
    panel = (120, 620, 150, 860)
    image, drawn = make_capture((768, 1024),
                                panel,
                                px_per_cm=37.3,
                                tick_grey=140,
                                tick_len=9,
                                tick_thick=3,
                                numerals='every_cm',
                                half_dots=True,
                                jpeg_quality=75)
    assert drawn['depth_cm'] > 13 and len(drawn['dots']) >= 13
    found = find_mmode_panel(image)
    assert np.abs(np.subtract(found, panel)).max() <= 2, found
    r = assert_reads(image, 37.3, panel, 'every cm')
    # the cm ticks and half-cm dots were both used
    kinds = [k for _, k in r.marks]
    assert kinds.count('dot') >= 10
    assert kinds.count('numbered') >= 12


@pytest.mark.parametrize(
    'size,panel,px_per_cm,font,quality',
    [
        ((768, 1024), (120, 620, 150, 860), 37.3, '5x7', None),
        ((768, 1024), (90, 700, 60, 900), 44.6, '3x5', 85),
        ((600, 800), (60, 560, 40, 680), 44.6, '5x7', 60),
        ((600, 800), (100, 520, 120, 700), 37.3, '3x5', 90),
        ((960, 1280), (150, 890, 200, 1100), 49.6, '5x7', 75),
        ((960, 1280), (80, 900, 300, 1150), 37.3, '3x5', 65),
        # a shallower panel: numerals 0..7 (the one-digit 5..7 rule out
        # numerals every 2 cm, which would make them 10..14)
        ((600, 800), (100, 434, 150, 700), 44.6, '5x7', 80),
    ])
def test_numerals_every_cm(size, panel, px_per_cm, font, quality):
    image, drawn = make_capture(
        size,
        panel,
        px_per_cm=px_per_cm,
        font=font,
        jpeg_quality=quality,
        seed=int(px_per_cm))
    assert_reads(image, px_per_cm, panel, 'every cm')


@pytest.mark.parametrize('thick,length,grey,quality', [(1, 6, 90, None),
                                                       (1, 6, 255, 80),
                                                       (1.5, 8, 120, 70),
                                                       (2, 12, 255, 90),
                                                       (2.5, 16, 90, 70),
                                                       (4, 9, 200, None),
                                                       (3, 5, 90, 85)])
def test_tick_styles(thick, length, grey, quality):
    """Dashes of other thickness (sub-pixel ones too), length and grey."""
    panel = (120, 620, 150, 860)
    image, _ = make_capture(
        panel=panel,
        px_per_cm=41.7,
        tick_thick=thick,
        tick_len=length,
        tick_grey=grey,
        numeral_grey=grey,
        half_dots=length >= 8,
        jpeg_quality=quality)
    assert_reads(image, 41.7, panel, 'every cm')


@pytest.mark.parametrize('size,panel,px_per_cm,quality',
                         [((768, 1024), (100, 650, 150, 860), 37.3, None),
                          ((768, 1024), (100, 650, 150, 860), 44.6, 75),
                          ((960, 1280), (100, 700, 200, 1100), 49.6, 85),
                          ((600, 800), (40, 580, 40, 680), 44.6, 65)])
def test_numerals_every_2cm_with_two_digit_numerals(size, panel, px_per_cm,
                                                    quality):
    image, drawn = make_capture(
        size,
        panel,
        px_per_cm=px_per_cm,
        numerals='every_2cm',
        odd_cm='dash',
        jpeg_quality=quality)
    assert drawn['depth_cm'] >= 11
    assert {10} <= {cm for cm, _ in drawn['numerals']}
    assert_reads(image, px_per_cm, panel, 'every 2 cm')


@pytest.mark.parametrize('px_per_cm', [37.3, 44.6])
@pytest.mark.parametrize('cm', [4, 10])
@pytest.mark.parametrize('what', ['occluded', 'missing'])
@pytest.mark.parametrize('quality', [None, 75])
def test_occluded_or_missing_tick(px_per_cm, cm, what, quality):
    """``occluded``: the dash is gone, its numeral stays; ``missing``: both
    are gone."""
    panel = (120, 620, 150, 860)
    image, drawn = make_capture(
        panel=panel,
        px_per_cm=px_per_cm,
        drop_dash=(cm, ),
        drop_numeral=(cm, ) if what == 'missing' else (),
        jpeg_quality=quality)
    assert len(drawn['dash_rows']) == drawn['n_cm'] - 1
    assert_reads(image, px_per_cm, panel, 'every cm')


def test_occluded_tick_with_half_dots_and_every_2cm():
    panel = (100, 650, 150, 860)
    image, _ = make_capture(
        panel=panel,
        px_per_cm=44.6,
        half_dots=True,
        drop_dash=(3, ),
        jpeg_quality=80)
    assert_reads(image, 44.6, panel, 'every cm')
    image, _ = make_capture(
        panel=panel,
        px_per_cm=44.6,
        numerals='every_2cm',
        drop_dash=(4, ),
        jpeg_quality=80)
    assert_reads(image, 44.6, panel, 'every 2 cm')


@pytest.mark.parametrize('px_per_cm,numerals,half_dots,quality,gap',
                         [(37.3, 'every_cm', False, None, 6),
                          (44.6, 'every_cm', True, 75, 3),
                          (49.6, 'every_cm', False, 85, 12),
                          (37.3, 'every_2cm', False, 70, 6),
                          (44.6, 'every_cm', False, 80, 2)])
def test_scale_left_of_the_panel(px_per_cm, numerals, half_dots, quality, gap):
    panel = (100, 700, 200, 900)
    image, drawn = make_capture((768, 1024),
                                panel,
                                px_per_cm=px_per_cm,
                                side='left',
                                numerals=numerals,
                                half_dots=half_dots,
                                tick_gap=gap,
                                jpeg_quality=quality)
    # the ticks' inner end is next to the panel's left edge
    assert drawn['dash_cols'][1] == panel[2] - gap
    r = assert_reads(image, px_per_cm, panel,
                     'every cm' if numerals == 'every_cm' else 'every 2 cm')
    assert r.columns[1] < panel[2]


# --------------------------------------------------------------------------
# inputs that must be refused (None with a status, never a number)
# --------------------------------------------------------------------------


@pytest.mark.parametrize('half_dots', [False, True])
@pytest.mark.parametrize('quality', [None, 75])
def test_refuses_dashes_without_numerals(half_dots, quality):
    image, _ = make_capture(
        numerals=None, half_dots=half_dots, jpeg_quality=quality)
    r = assert_refused(image)
    assert 'numeral' in r.status


@pytest.mark.parametrize('px_per_cm', [37.3, 44.6])
@pytest.mark.parametrize('quality', [None, 75])
def test_refuses_even_numerals_below_10cm(px_per_cm, quality):
    """Numerals 0, 2, 4, 6, 8 on every other dash, depth < 10 cm: this is
    pixel for pixel a scale numbered 0..4 every cm with half-cm dashes
    (only the digit shapes differ), so it must be refused."""
    top = 100
    panel = (top, top + int(9.5 * px_per_cm), 150, 860)
    image, drawn = make_capture(
        panel=panel,
        px_per_cm=px_per_cm,
        numerals='every_2cm',
        jpeg_quality=quality)
    assert [cm for cm, _ in drawn['numerals']] == [0, 2, 4, 6, 8]
    r = assert_refused(image)
    assert 'uncertain' in r.status


@pytest.mark.parametrize('quality', [None, 80])
def test_refuses_panel_without_scale(quality):
    panel = (120, 620, 150, 860)
    image, _ = make_capture(panel=panel, scale=False, jpeg_quality=quality)
    assert np.abs(np.subtract(find_mmode_panel(image), panel)).max() <= 2
    assert_refused(image)


@pytest.mark.parametrize('step', [20.0, 24.0, 37.3])
@pytest.mark.parametrize('quality', [None, 80])
def test_refuses_text_lines_beside_the_panel(step, quality):
    assert_refused(text_column(step=step, jpeg_quality=quality))


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('quality', [None, 80])
def test_refuses_irregular_marks(seed, quality):
    assert_refused(irregular_marks(seed, quality))


@pytest.mark.parametrize('shape', [(768, 1024, 3), (768, 1024), (1, 1, 3),
                                   (4000, 3, 3), (3, 4000, 3), (1, 1),
                                   (4000, 3), (3, 4000), (40, 40, 3)])
def test_refuses_black_and_degenerate_images(shape):
    assert_refused(np.zeros(shape, np.uint8))
    with pytest.raises(ValueError):
        find_mmode_panel(np.zeros(shape, np.uint8))


@pytest.mark.parametrize('shape', [(0, 0, 3), (0, 100, 3), (100, 0, 3)])
def test_refuses_empty_image(shape):
    assert_refused(np.zeros(shape, np.uint8))


# --------------------------------------------------------------------------
# the wrong-scale guard: dots at whole cm are not half-cm dots
# --------------------------------------------------------------------------


def _odd_cm_dots(px_per_cm, depth_cm, quality):
    top = 100
    panel = (top, top + int(depth_cm * px_per_cm) + 1, 150, 860)
    image, drawn = make_capture((768, 1024),
                                panel,
                                px_per_cm=px_per_cm,
                                numerals='every_2cm',
                                odd_cm='dot',
                                dot_size=3,
                                jpeg_quality=quality)
    # dots at every odd cm, numbered dashes at every even cm
    assert len(drawn['dots']) == len(drawn['numerals']) - (
        drawn['n_cm'] % 2 == 1)
    return image


@pytest.mark.parametrize('px_per_cm', [37.3, 44.6])
@pytest.mark.parametrize('quality', [None, 75])
def test_whole_cm_dots_are_not_read_as_half_cm_dots(px_per_cm, quality):
    """Numerals 0, 2, ..., 12 on dashes, dots at the odd cm: read as
    numerals every cm with half-cm dots the scale would be 2x off."""
    image = _odd_cm_dots(px_per_cm, 12.2, quality)
    value = read_depth_scale(image)
    assert value is None or value == pytest.approx(1 / px_per_cm, rel=0.005)


@pytest.mark.parametrize('px_per_cm', [37.3, 44.6])
def test_whole_cm_dots_below_10cm_are_not_read_2x_off(px_per_cm):
    image = _odd_cm_dots(px_per_cm, 9.5, None)
    value = read_depth_scale(image)
    assert value is None or value == pytest.approx(1 / px_per_cm, rel=0.005)


# --------------------------------------------------------------------------
# numerals whose glyphs touch
# --------------------------------------------------------------------------


def test_touching_digits_of_a_wide_font():
    """Two-digit numerals whose glyphs touch (0 px spacing) in the 3x5
    font, where a '1' is as wide as other digits."""
    panel = (120, 620, 150, 860)
    image, _ = make_capture(
        panel=panel,
        px_per_cm=41.7,
        font='3x5',
        glyph_spacing=0,
        jpeg_quality=80)
    assert_reads(image, 41.7, panel, 'every cm')


@pytest.mark.parametrize('quality', [None, 80])
def test_touching_narrow_ones(quality):
    panel = (120, 620, 150, 860)
    image, drawn = make_capture(
        panel=panel,
        px_per_cm=41.7,
        font='5x7',
        glyph_spacing=0,
        jpeg_quality=quality)
    assert 11 in [cm for cm, _ in drawn['numerals']]
    assert_reads(image, 41.7, panel, 'every cm')


# --------------------------------------------------------------------------
# MModeMeasurer.calibrate
# --------------------------------------------------------------------------


def test_measurer_calibrate_reads_or_refuses():
    measurer = MModeMeasurer(read_scale=True)
    good, _ = make_capture(px_per_cm=44.6, half_dots=True, jpeg_quality=80)
    value, source = measurer.calibrate(good)
    assert source == 'depth scale'
    assert value == pytest.approx(1 / 44.6, rel=0.005)
    assert measurer.last_scale.ok

    for uncertain in (
            make_capture(numerals=None, jpeg_quality=80)[0],
            make_capture(
                panel=(100, 100 + int(9.5 * 44.6), 150, 860),
                px_per_cm=44.6,
                numerals='every_2cm')[0],
            text_column(),
            np.zeros((1, 1, 3), np.uint8),
    ):
        value, source = measurer.calibrate(uncertain)
        assert value is None
        assert source.startswith('none: depth scale refused'), source
        assert len(source) > len('none: depth scale refused ()')

    # a scale that is not read is not used when it is not asked for
    value, source = MModeMeasurer(read_scale=False).calibrate(good)
    assert (value, source) == (None, 'none')
