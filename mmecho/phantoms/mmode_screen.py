# Copyright (c) mmecho contributors. All rights reserved.
"""Vendor-like screen layouts for M-mode phantom captures.

A real export (MEIS's Philips captures, and other vendors') is not only the
M-mode panel: it has header text, a 2D sector inset with the M-mode cursor,
the depth as text ("8.1cm"), often the sonographer's measurements as a text
list, an ECG trace and a cursor line crossing the panel, time ticks and
"100mm/s" under it, and a depth scale beside it whose look differs from
system to system. :class:`ScreenStyle` draws one such look at random so that
the calibration reader is never tuned to one style; the truth (panel, cm per
pixel, tick rows) is kept with it.

Scale styles (``ScreenStyle.scale``):

- ``'every_cm'``: a dash at every cm with its numeral (0, 1, 2, ...), half-cm
  dots between them or not (the Philips look);
- ``'every_2cm'``: a dash at every cm, numerals at even cm only, odd-cm
  dashes as long or shorter;
- ``'half_cm_dashes'``: numbered dashes at every cm and shorter, unnumbered
  dashes at every half cm.

Layouts (``ScreenStyle.layout``): ``'generic'`` (:func:`sample_style`, the
variety above) and ``'philips'`` (:func:`philips_style`, facts read off two
real Philips M-mode captures): 1024 x 768, the panel at rows ~341-735 and
columns ~42-945 with a thin grey line along its top edge at depth 0 and a
dark near field under it, every cm a dash at the panel's right edge
immediately followed by (touching) its ~16 px numeral, so each reads
``-0``, ``-1``, ...; a small dot at every half cm; a cursor line through the
panel; and often what an exported screenshot carries over the panel
(``ScreenStyle.overlays``): caliper crosses with labels, coloured masks over
the annotated structures and their boxes, a box outline a few px from the
scale.

Units: pixels for positions and sizes, cm for depth, s for time.
"""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from .ultrasound import complex_scatterers, form_bmode, sector_mask

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN,
         cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX)
SIZES = ((1024, 768), (1024, 768), (1024, 768), (1280, 960), (800, 600),
         (1136, 852))
SCALES = ('every_cm', 'every_2cm', 'half_cm_dashes')


@dataclass
class ScreenStyle:
    """One screen layout. Positions are pixels (x right, y down), half-open
    panel ranges; ``depth_cm`` is the depth shown by the panel, whose top is
    0 cm (the transducer)."""
    width: int
    height: int
    panel: Tuple[int, int, int, int]  # top, bottom, left, right
    depth_cm: float
    scale: str
    tick_grey: int
    tick_len: int
    tick_thick: int
    tick_gap: int  # panel edge -> tick start
    minor_len: int  # odd-cm / half-cm dash length
    half_dots: bool
    dot_radius: int
    font: int
    font_scale: float
    numeral_grey: int
    numeral_gap: int
    missing_tick: int  # index of an occluded cm tick, -1 for none
    jpeg_quality: int
    ecg: bool
    cursor_x: int  # -1: no cursor line
    measurement_text: bool
    scale_side: int = 1  # 1: right of the panel, -1: left
    occluded_keeps_numeral: bool = False  # the missing tick's numeral stays
    burned_scale: bool = True  # False: no depth scale drawn (DICOM)
    layout: str = 'generic'  # 'generic' or 'philips'
    top_line: int = 0  # grey of a line along the panel's top edge; 0: none
    # drawn over the panel: any of 'masks' (drawn by the renderer, which
    # knows the anatomy), 'calipers', 'box_near_scale'
    overlays: Tuple[str, ...] = ()

    @property
    def cm_per_px(self) -> float:
        top, bottom = self.panel[:2]
        return self.depth_cm / (bottom - top)

    def tick_rows(self) -> np.ndarray:
        """Rows (float, pixel centres) of the 1 cm ticks, 0 cm first."""
        top = self.panel[0]
        n = int(np.floor(self.depth_cm + 1e-6)) + 1
        return top + np.arange(n) / self.cm_per_px


def sample_style(rng: np.random.Generator,
                 min_depth: float = 6.0) -> ScreenStyle:
    """Draw a random vendor-like layout whose depth (cm) is at least
    ``min_depth`` (the deepest structure drawn)."""
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    top = int(h * rng.uniform(0.36, 0.50))
    bottom = int(h * rng.uniform(0.86, 0.93))
    scale_side = -1 if rng.random() < 0.2 else 1
    left = int(w * rng.uniform(0.02, 0.14))
    if scale_side < 0:
        left = max(left, 90)
    right = int(w * rng.uniform(0.80, 0.90))
    lo = max(6.0, min_depth)
    depth = float(np.round(rng.uniform(lo, max(lo, 18.0)), 1))
    # at least 18 px per cm: a taller panel on a small screen
    top = int(max(min(top, bottom - 18 * depth), 0.22 * h))
    if (bottom - top) / depth < 16:
        depth = float(np.floor((bottom - top) / 16 * 10) / 10)
    scale = SCALES[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
    thick = int(rng.integers(1, 5))
    # a dash is at least about twice as long as thick (else it is a dot)
    tick_len = int(rng.integers(max(5, 2 * thick + 2), 17))
    font = FONTS[int(rng.integers(len(FONTS)))]
    # numeral height 7..14 px whatever the font, and at most 60 % of a cm
    target = min(rng.uniform(7, 14), 0.6 * (bottom - top) / depth)
    (_, th), _ = cv2.getTextSize('0', font, 1.0, 1)
    n_ticks = int(depth) + 1
    return ScreenStyle(
        width=w,
        height=h,
        panel=(top, bottom, left, right),
        depth_cm=depth,
        scale=scale,
        tick_grey=int(rng.integers(90, 256)),
        tick_len=tick_len,
        tick_thick=thick,
        tick_gap=int(rng.integers(2, 16)),
        minor_len=int(rng.integers(min(2 * thick + 1, tick_len), tick_len + 1)),
        half_dots=bool(scale == 'every_cm' and rng.random() < 0.6),
        # half-cm dots are clearly smaller than the dashes
        dot_radius=1 if tick_len < 8 else int(rng.integers(1, 3)),
        font=font,
        font_scale=float(target / th),
        numeral_grey=int(rng.integers(120, 256)),
        numeral_gap=int(rng.integers(2, 9)),
        missing_tick=int(rng.integers(1, n_ticks - 1))
        if rng.random() < 0.2 else -1,
        jpeg_quality=int(rng.integers(60, 96)),
        ecg=bool(rng.random() < 0.85),
        cursor_x=int(rng.integers(left + 20, right - 20))
        if rng.random() < 0.6 else -1,
        measurement_text=bool(rng.random() < 0.6),
        scale_side=scale_side,
        occluded_keeps_numeral=bool(rng.random() < 0.5),
    )


def philips_style(rng: np.random.Generator,
                  min_depth: float = 6.0) -> ScreenStyle:
    """The Philips layout (see the module docstring) with its small
    variations: panel edges within a few px, depth at least ``min_depth``
    (cm) and about 44-50 px per cm, numerals touching their dash or 1 px
    off, overlays on half of the screens."""
    w, h = 1024, 768
    top = int(rng.integers(336, 346))
    bottom = int(rng.integers(730, 740))
    left = int(rng.integers(38, 46))
    right = int(rng.integers(940, 950))
    depth = float(np.round(max(min_depth, rng.uniform(7.9, 8.9)), 1))
    font = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX)[int(
        rng.integers(2))]
    (_, th), _ = cv2.getTextSize('0', font, 1.0, 1)
    overlays = tuple(o for o in ('masks', 'calipers', 'box_near_scale')
                     if rng.random() < 0.5)
    grey = int(rng.integers(150, 171))
    return ScreenStyle(
        width=w,
        height=h,
        panel=(top, bottom, left, right),
        depth_cm=depth,
        scale='every_cm',
        tick_grey=grey,
        tick_len=int(rng.integers(8, 10)),
        tick_thick=2,
        tick_gap=0,
        minor_len=8,
        half_dots=True,
        dot_radius=1,
        font=font,
        font_scale=float(rng.uniform(14, 17) / th),
        numeral_grey=int(rng.integers(150, 171)),
        # cv2's glyphs start 1-2 px after their origin: -2 touches the dash
        numeral_gap=int(rng.integers(-2, 1)),
        missing_tick=-1,
        jpeg_quality=int(rng.integers(60, 96)),
        ecg=bool(rng.random() < 0.5),
        cursor_x=int(rng.integers(left + 100, right - 100)),
        measurement_text=True,
        layout='philips',
        top_line=grey,
        overlays=overlays)


def classic_style() -> ScreenStyle:
    """The fixed layout of earlier phantoms (1024 x 768, white ticks, numerals
    every 2 cm), kept for the training demos."""
    return ScreenStyle(
        width=1024,
        height=768,
        panel=(342, 730, 60, 930),
        depth_cm=15.0,
        scale='every_2cm',
        tick_grey=255,
        tick_len=10,
        tick_thick=1,
        tick_gap=15,
        minor_len=5,
        half_dots=False,
        dot_radius=1,
        font=cv2.FONT_HERSHEY_SIMPLEX,
        font_scale=0.4,
        numeral_grey=255,
        numeral_gap=4,
        missing_tick=-1,
        jpeg_quality=95,
        ecg=True,
        cursor_x=-1,
        measurement_text=False)


def _text(img, s, org, scale, grey, font=cv2.FONT_HERSHEY_SIMPLEX, thick=1):
    cv2.putText(img, s, (int(org[0]), int(org[1])), font, scale,
                (grey, grey, grey), thick, cv2.LINE_AA)


def draw_depth_scale(img: np.ndarray, style: ScreenStyle) -> None:
    """Ticks, half-cm marks and numerals beside the panel (right, or left
    when ``style.scale_side`` is -1), 0 cm at the panel's top row."""
    if not style.burned_scale:
        return
    top, bottom, left, right = style.panel
    side = style.scale_side
    g = style.tick_grey
    rows = style.tick_rows()
    s = 1.0 / style.cm_per_px
    half = style.tick_thick / 2.0
    shift = 4  # sub-pixel drawing (1/16 px)

    def span(length):
        """(first, last) column of a mark of ``length`` starting next to
        the panel."""
        if side > 0:
            x0 = right + style.tick_gap
            return x0, x0 + length - 1
        x1 = left - 1 - style.tick_gap
        return x1 - length + 1, x1

    def dash(y, length):
        xa, xb = span(length)
        if style.tick_thick == 1:
            cv2.line(img, (xa * 16, int(round(y * 16))),
                     (xb * 16, int(round(y * 16))), (g, g, g), 1,
                     cv2.LINE_AA, shift)
        else:
            y0 = int(round((y - half + 0.5) * 16))
            y1 = int(round((y + half - 0.5) * 16))
            cv2.rectangle(img, (xa * 16, y0), (xb * 16, y1), (g, g, g), -1,
                          cv2.LINE_AA, shift)

    for cm, y in enumerate(rows):
        if y > bottom - 1:
            continue
        numbered = style.scale != 'every_2cm' or cm % 2 == 0
        missing = cm == style.missing_tick
        length = style.tick_len if numbered else style.minor_len
        if not missing:
            dash(y, length)
        if numbered and (not missing or style.occluded_keeps_numeral):
            label = str(cm)
            (tw, th), _ = cv2.getTextSize(label, style.font, style.font_scale,
                                          1)
            xa, xb = span(style.tick_len)
            x = xb + 1 + style.numeral_gap if side > 0 else \
                xa - style.numeral_gap - tw
            _text(img, label, (x, y + th / 2), style.font_scale,
                  style.numeral_grey, style.font)
        yh = y + s / 2
        if yh > bottom - 1:
            continue
        if style.scale == 'half_cm_dashes':
            dash(yh, style.minor_len)
        elif style.half_dots:
            xa, xb = span(style.tick_len)
            cx = (xa + xb) // 2
            cv2.circle(img, (cx * 16, int(round(yh * 16))),
                       style.dot_radius * 16, (g, g, g), -1, cv2.LINE_AA,
                       shift)


def draw_screen(img: np.ndarray, style: ScreenStyle,
                rng: np.random.Generator, kind: str, ecg_phase: np.ndarray,
                px_per_s: float, hr_bpm: float,
                truth_text: List[str]) -> None:
    """Everything around (and over) the panel, drawn on ``img`` (BGR).

    Args:
        ecg_phase (np.ndarray): (panel width,) cardiac phase in [0, 1) per
            column, 0 at end-diastole (the R peak).
        px_per_s (float): sweep speed, columns per second.
        truth_text (list[str]): sonographer measurement lines to print.
    """
    top, bottom, left, right = style.panel
    w, h = style.width, style.height
    # header
    hdr = rng.choice(['PHILIPS', 'VENDOR X', 'EchoSys', 'iE33', 'EPIQ 7C'])
    grey = int(rng.integers(150, 256))
    _text(img, str(hdr), (8, 16), 0.45, grey)
    _text(img, '2026/12/02  10:%02d:%02d' % (rng.integers(60), rng.integers(
        60)), (w - 220, 16), 0.4, grey)
    _text(img, f'MI {rng.uniform(0.6, 1.4):.1f}  TIS {rng.uniform(0.1, 1):.1f}'
          f'  M-mode {kind}', (8, 34), 0.4, grey)
    # 2D sector inset with the M-mode cursor
    sw = int(rng.uniform(0.25, 0.4) * w)
    sh = max(int(top - 40), 60)
    sx = int(rng.uniform(0.25, 0.45) * w)
    apex = (sw // 2, 4)
    mask = sector_mask((sh, sw), apex, float(rng.uniform(30, 45)), sh - 4)
    scat = complex_scatterers((sh, sw), rng)
    yy, xx = np.mgrid[0:sh, 0:sw]
    ech = np.full((sh, sw), 0.3, np.float32)
    ech[((xx - sw / 2) / (0.25 * sw))**2 + ((yy - 0.55 * sh) /
                                           (0.18 * sh))**2 < 1] = 0.02
    thumb = form_bmode(scat, ech, (1.0, 2.5), rng=rng)
    y_off = 30
    region = img[y_off:y_off + sh, sx:sx + sw]
    region[mask] = thumb[mask][:, None]
    cv2.line(img, (sx + sw // 2, y_off + 4),
             (sx + sw // 2 + int(rng.integers(-30, 30)), y_off + sh - 6),
             (0, 230, 230), 1, cv2.LINE_AA)
    # depth text near the sector
    depth_txt = rng.choice(['{:.1f}cm', '{:.1f} cm', 'D {:.1f}cm'])
    _text(img, depth_txt.format(style.depth_cm),
          (sx + sw + 10, y_off + sh - 10), 0.45, grey)
    # measurement list
    if style.measurement_text and truth_text:
        x = int(rng.uniform(0.7, 0.78) * w) if sx < 0.4 * w else 10
        for i, line in enumerate(truth_text):
            _text(img, line, (x, 60 + 18 * i), 0.42, grey)
    # ECG, cursor line
    n = right - left
    if style.ecg:
        ph = ecg_phase
        ecg = (np.exp(-(ph / 0.012)**2) + np.exp(-((ph - 1.0) / 0.012)**2) +
               0.25 * np.exp(-((ph - 0.3) / 0.05)**2) + 0.12 * np.exp(-(
                   (ph - 0.9) / 0.03)**2))
        base = rng.uniform(bottom - 40, bottom - 10)
        amp = rng.uniform(15, 35)
        pts = np.stack([left + np.arange(n), base - amp * ecg],
                       1).astype(np.int32)
        colour = [(80, 220, 80), (60, 230, 230), (200, 200, 200)][int(
            rng.integers(3))]
        cv2.polylines(img, [pts], False, colour, 1, cv2.LINE_AA)
    if style.cursor_x >= 0:
        c = [(0, 0, 0), (255, 255, 255), (0, 230, 230)][int(rng.integers(3))]
        cv2.line(img, (style.cursor_x, top), (style.cursor_x, bottom - 1), c,
                 int(rng.integers(1, 3)))
    # time ticks under the panel, every 0.2 s, longer every second
    y = bottom + 4
    if y + 8 < h:
        t = 0.0
        while left + t * px_per_s < right:
            x = int(round(left + t * px_per_s))
            long_ = abs(t - round(t)) < 1e-6
            cv2.line(img, (x, y), (x, y + (6 if long_ else 3)), (160, 160,
                                                                 160), 1)
            t = round(t + 0.2, 6)
    if bottom + 28 < h:
        _text(img, '100mm/s', (left, min(bottom + 26, h - 4)), 0.4, grey)
        _text(img, f'HR {hr_bpm:.0f} bpm',
              (left + 90, min(bottom + 26, h - 4)), 0.4, grey)
    if style.top_line:
        g = style.top_line
        cv2.line(img, (left, top), (right - 1, top), (g, g, g), 1)
    draw_depth_scale(img, style)
    draw_overlays(img, style, rng)


def draw_overlays(img: np.ndarray, style: ScreenStyle,
                  rng: np.random.Generator) -> None:
    """What an exported screenshot carries over the panel, in colour:
    ``'calipers'``: 2-4 caliper crosses with their numbers;
    ``'box_near_scale'``: a box outline whose right side runs 3 px inside
    the panel's edge, next to the scale. (``'masks'`` are drawn by the
    renderer, which knows the anatomy.)"""
    top, bottom, left, right = style.panel
    colours = [(0, 255, 255), (0, 220, 0), (255, 200, 0), (60, 60, 255)]
    if 'calipers' in style.overlays:
        c = colours[int(rng.integers(len(colours)))]
        for k in range(int(rng.integers(2, 5))):
            x = int(rng.integers(left + 30, right - 60))
            y = int(rng.integers(top + 20, bottom - 20))
            cv2.line(img, (x - 6, y), (x + 6, y), c, 1)
            cv2.line(img, (x, y - 6), (x, y + 6), c, 1)
            cv2.putText(img, str(k + 1), (x + 6, y - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, 1, cv2.LINE_AA)
    if 'box_near_scale' in style.overlays:
        c = colours[int(rng.integers(len(colours)))]
        y0 = int(rng.integers(top + 10, (top + bottom) // 2))
        y1 = int(rng.integers(y0 + 40, bottom - 5))
        x0 = int(rng.integers(left + 100, right - 200))
        cv2.rectangle(img, (x0, y0), (right - 4, y1), c, 2)
