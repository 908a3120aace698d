# Copyright (c) mmecho contributors. All rights reserved.
"""Pixel size of an M-mode capture: explicit, sidecar JSON, or read from the
depth scale beside the M-mode panel; and the panel's position.

The depth scale reader (:func:`read_depth_scale_marks`) is written for the
variety of vendor screens, not one style:

- marks are found as small connected components of any grey level at least
  ~32 above the background, beside the panel (right or left), JPEG or not;
- a *dash* is at least 1.5 times as long as it is thick, a *dot* is not;
- a *numeral* is a group of one or two glyphs just beside a dash (more
  glyphs are text, e.g. a "-LVIDd(cm)" line, and disqualify the dash);
- all marks of one column lie on one regular grid: rows ``a + s k`` with
  integer ``k``, so a missing or occluded mark does not break the spacing;
  the least-squares fit over every mark gives ``s`` to a fraction of a pixel;
- which grid step is 1 cm is decided from the numerals, never guessed:
  numbered dashes sit at whole cm, counted from 0 at the panel's top; they
  are numbered every cm or every 2 cm, and each hypothesis predicts which
  numerals have two digits (>= 10); dots sit at half cm (or odd cm when
  numbered every 2 cm), never on a numbered mark. A scale is read
  only when exactly one hypothesis fits every mark and numeral; otherwise
  the result says why it was refused (a wrong scale is worse than none).
"""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

from mmecho.errors import DatasetFormatError

from .screen_colour import coloured_pixels


def read_sidecar_cm_per_px(image_path: str) -> Optional[float]:
    """``cm_per_px`` from ``<image>.json`` next to the image, if present.

    The sidecar is ``{"cm_per_px": 0.0372}`` (other keys are ignored).
    """
    stem = osp.splitext(image_path)[0]
    for path in (stem + '.json', image_path + '.json'):
        if not osp.isfile(path):
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise DatasetFormatError(path, f'not valid JSON ({e})')
        value = data.get('cm_per_px') if isinstance(data, dict) else None
        if not isinstance(value, (int, float)) or not value > 0:
            raise DatasetFormatError(
                path,
                f'expected a positive number, got {value!r}',
                field='cm_per_px')
        return float(value)
    return None


def _gray(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the brightest channel, so coloured marks count."""
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]  # BGRA: alpha is not content
    if image.ndim == 3 and image.shape[-1] == 3 and image.dtype == np.uint8 \
            and image.size:
        return cv2.max(cv2.max(image[..., 0], image[..., 1]), image[..., 2])
    if image.ndim == 3:
        return image.max(-1)
    return image


def _without_colour(image: np.ndarray
                    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(H, W) uint8 grey of a capture under what is drawn over it in colour,
    and the (H, W) bool mask of the coloured pixels (None when there are
    none).

    An M-mode panel is grey; what an export draws over it in colour (masks
    blended over the structures, their boxes, calipers, a coloured cursor
    or ECG) is not panel content. The grey is the darkest channel: a mask of
    opacity ``a`` blended over grey ``g`` leaves ``(1 - a) g`` (plus ``a``
    times the colour's darkest channel) there, so the panel's texture stays
    visible under it, while an opaque line of a pure colour is 0. Coloured:
    :func:`mmecho.measurement.screen_colour.coloured_pixels`.
    """
    gray = _gray(image)
    coloured = coloured_pixels(image)
    if coloured is None:
        return gray, None
    bgr = image[..., :3]
    return cv2.min(cv2.min(bgr[..., 0], bgr[..., 1]), bgr[..., 2]), coloured


def find_mmode_panel(image: np.ndarray,
                     level: float = 12.0) -> Tuple[int, int, int, int]:
    """Bounding rows/columns of the M-mode panel.

    The panel is the rectangle whose rows, smoothed along time (M-mode
    speckle is streaked along time), are non-black across one common column
    range: the most frequent (start, end) of the rows' longest runs, among
    runs wider than 30 % of the image. Text, the 2D sector inset and time
    ticks never share that exact range; dark blood bands inside the panel
    are bridged because the panel spans its first to its last such row.

    Args:
        image (np.ndarray): (H, W) or (H, W, 3) uint8 screen capture.
        level (float): grey level above which a (smoothed) pixel is content.

    Returns:
        tuple: ``(top, bottom, left, right)``, half-open pixel ranges.

    Raises:
        ValueError: when no such panel is found (not an M-mode capture, or
            a degenerate image).
    """
    gray, coloured = _without_colour(np.asarray(image))
    if gray.ndim != 2 or min(gray.shape) < 32:
        raise ValueError(f'no M-mode panel: image of shape {image.shape} '
                         'is too small')
    h, w = gray.shape
    smooth = cv2.blur(gray.astype(np.float32), (15, 1))
    content = (smooth > level).astype(np.uint8)
    content = cv2.morphologyEx(content, cv2.MORPH_CLOSE,
                               np.ones((1, 9), np.uint8))
    starts, ends = _longest_runs(content)
    wide = (ends - starts) >= 0.3 * w
    if wide.sum() < 0.1 * h:
        raise ValueError('no M-mode panel found (no wide textured rows)')
    # the start shared by most wide rows (8-px bins, +-1 bin): the panel's
    # left edge, or the scale's when it sits left of the panel and touches
    # it; the sector inset's rows all start elsewhere
    sb = starts[wide] // 8
    bins = np.unique(sb)
    b0 = bins[int(np.argmax([(np.abs(sb - b) <= 1).sum() for b in bins]))]
    same = wide & (np.abs(starts // 8 - b0) <= 1)
    left = int(np.median(starts[same]))
    right = int(np.median(ends[same]))
    # panel rows cover [left, right] up to a tolerance, and run past it by
    # no more than a depth scale does (the screen's other wide content
    # starts or ends elsewhere)
    tol = max(6, int(0.012 * w))
    out = int(0.08 * w)
    rows = np.nonzero((starts <= left + tol) & (ends >= right - tol)
                      & (starts >= left - out) & (ends <= right + out))[0]
    if len(rows) == 0:
        raise ValueError('no M-mode panel found (too few panel rows)')
    # groups of panel rows whose gaps stay below a quarter of them
    groups, cur = [], [rows[0]]
    for r in rows[1:]:
        if r - cur[-1] > max(0.25 * (cur[-1] - cur[0] + 1), 40):
            groups.append(cur)
            cur = []
        cur.append(r)
    groups.append(cur)
    # a wide gap is still inside the panel when nothing lies beside the
    # panel in its rows: a blood pool (LV cavity, aortic lumen, LA) is
    # black across the whole width, and the dark near field under the
    # panel's top line too; a gap beside other screen content is not
    beside = content.copy()
    beside[:, max(left - tol, 0):min(right + out, w)] = 0
    quiet = beside.sum(1) <= max(2, 0.01 * w)
    merged = [list(groups[0])]
    for g in groups[1:]:
        if quiet[merged[-1][-1] + 1:g[0]].all():
            merged[-1].extend(g)
        else:
            merged.append(list(g))
    g = max(merged, key=len)
    if len(g) < 0.1 * h and g[-1] - g[0] + 1 < 0.2 * h:
        raise ValueError('no M-mode panel found (too few panel rows)')
    return _refine_panel(gray, int(g[0]), int(g[-1]) + 1, left, right,
                         np.asarray(g), coloured)


def _refine_panel(gray, top, bottom, left, right, panel_rows, coloured=None,
                  level=4):
    """Move each edge to where the raw (unsmoothed) panel content ends:
    rows / columns where at least half as many pixels as in the panel's
    textured rows (``panel_rows``) are above a low grey level (dark
    near-field rows count, the black screen background does not). Columns
    mostly drawn in colour (``coloured``: a cursor line, a box's side) are
    stepped over where they hide the panel: they are neither panel nor
    background."""
    h, w = gray.shape
    on = gray > level

    def edge(frac, start, step, ref, shrink, grow):
        i = start
        # shrink while outside, then grow while inside
        for _ in range(shrink):
            if frac[i] >= ref:
                break
            i -= step
        for _ in range(grow):
            j = i + step
            if not 0 <= j < len(frac) or frac[j] < ref:
                break
            i = j
        return i

    # JPEG halos around the scale's marks exceed a low level: columns are
    # judged at a higher one
    cols = (gray[top:bottom] > 3 * level).mean(0)
    c_lo, c_hi = left + (right - left) // 4, right - (right - left) // 4
    # columns: the smoothing widened them by up to 7 px. Walk out from 12 px
    # inside until 4 columns in a row are outside (a thin cursor line is
    # not an edge; the depth scale's marks beside the panel are never
    # reached because the black gap before them stops the walk)
    ref = 0.5 * np.median(cols[c_lo:c_hi])
    # a vertical line drawn in colour (a cursor, a box's side: a run of at
    # most 10 mostly coloured columns) is neither panel nor background and
    # is stepped over (JPEG blurs its colour into a halo that is judged as
    # the rest); under a translucent mask (wide) the panel's texture still
    # counts
    judged = np.ones(len(cols), bool)
    if coloured is not None:
        line = np.r_[0, (coloured[top:bottom].mean(0) > 0.3).astype(int), 0]
        d = np.diff(line)
        for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
            if b - a <= 10:
                judged[a:b] = False
    grey_idx = np.nonzero(judged)[0]

    def walk(i, step):
        while 0 <= i + step < len(cols):
            # the next 4 judged columns among the next 8 (all 4 next ones
            # when nothing is coloured); fewer than 2 there: keep walking
            if step > 0:
                k = np.searchsorted(grey_idx, i, side='right')
                nxt = grey_idx[k:k + 4]
                nxt = nxt[nxt <= i + 8]
            else:
                k = np.searchsorted(grey_idx, i, side='left')
                nxt = grey_idx[max(k - 4, 0):k][::-1]
                nxt = nxt[nxt >= i - 8]
            if len(nxt) >= 2 and np.all(cols[nxt] < ref):
                break
            i += step
        return i

    left = walk(c_lo, -1)
    right = walk(c_hi, 1) + 1
    rows = on[:, left:right].mean(1)
    ref_rows = 0.5 * np.median(rows[panel_rows])
    # rows: a dark near field may have been left out
    top = edge(rows, top, -1, ref_rows, 20, 60)
    bottom = edge(rows, bottom - 1, 1, ref_rows, 20, 60) + 1
    return int(top), int(bottom), int(left), int(right)


def _longest_runs(binary: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per row of an (H, W) 0/1 array, the start and end (half-open) of its
    longest run of ones; -1 for rows without any."""
    h, w = binary.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = binary
    d = np.diff(padded, axis=1)
    sy, sx = np.nonzero(d == 1)
    ey, ex = np.nonzero(d == -1)  # same order: runs row by row
    starts = np.full(h, -1)
    ends = np.full(h, -1)
    if len(sx):
        length = ex - sx
        # the longest run of each row: sort by (row, length), keep the last
        order = np.lexsort((length, sy))
        last = np.r_[sy[order][1:] != sy[order][:-1], True]
        pick = order[last]
        starts[sy[pick]] = sx[pick]
        ends[sy[pick]] = ex[pick]
    return starts, ends


def find_mmode_strip(image: np.ndarray) -> Tuple[int, int, int, int]:
    """Alias of :func:`find_mmode_panel` (the name used before)."""
    return find_mmode_panel(image)


@dataclass
class _Blob:
    x0: int
    x1: int  # inclusive
    y0: int
    y1: int  # inclusive
    cy: float  # intensity-weighted centre row
    cx: float

    @property
    def w(self):
        return self.x1 - self.x0 + 1

    @property
    def h(self):
        return self.y1 - self.y0 + 1


@dataclass
class DepthScale:
    """What the depth-scale reader found.

    Attributes:
        cm_per_px (float, optional): cm per pixel in depth; None when the
            scale was refused.
        status (str): ``'ok'`` or why the scale was refused.
        tick_rows (np.ndarray): rows (float, pixel centres) of the marks at
            whole cm, 0 cm first (drawn on overlays).
        marks (list): ``(row, kind)`` of every mark used, kind in
            ``'numbered'``, ``'dash'``, ``'dot'``.
        columns (tuple): ``(x0, x1)`` columns of the scale's dashes.
        panel (tuple, optional): ``(top, bottom, left, right)``.
        numbering (str): ``'every cm'`` or ``'every 2 cm'``.
        residual_px (float): largest distance of a mark from the grid.
    """
    cm_per_px: Optional[float]
    status: str
    tick_rows: np.ndarray = field(default_factory=lambda: np.zeros(0))
    marks: List[tuple] = field(default_factory=list)
    columns: Tuple[int, int] = (0, 0)
    panel: Optional[Tuple[int, int, int, int]] = None
    numbering: str = ''
    residual_px: float = float('nan')

    @property
    def ok(self) -> bool:
        return self.cm_per_px is not None


def _without_long_lines(binary: np.ndarray, length: int = 41) -> np.ndarray:
    """``binary`` (uint8 0/1) without straight vertical or horizontal lines
    of ``length`` px or more (box outlines, a panel's top line, a cursor):
    no mark of a depth scale is that long. Where a vertical line crossed a
    mark, the mark is bridged again (its pixels on both sides of the line
    are ink)."""
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN,
                            np.ones((length, 1), np.uint8))
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN,
                             np.ones((1, length), np.uint8))
    if not vert.any() and not horiz.any():
        return binary
    out = binary & (1 - vert) & (1 - horiz)
    if vert.any():
        bridged = cv2.morphologyEx(out, cv2.MORPH_CLOSE,
                                   np.ones((1, 7), np.uint8))
        out |= bridged & vert & (1 - horiz)
    return out


def _split_dash(sub: np.ndarray) -> Optional[Tuple[int, int]]:
    """Columns ``(a, b)`` (half open) of a dash fused with the numeral it
    touches (``-1`` drawn as one connected mark), in the (h, w) bool mask
    of one component; None when it is not one.

    The dash is a run of at least 4 columns at either end whose ink lies in
    the same thin band of rows (at most a third of the glyph's height, about
    its middle), followed by at least 2 columns of glyph whose ink spans at
    least 60 % of the height (a dash's own frayed end is not a glyph). A digit's own
    thin strokes (the slant of a '4', the flag of a '1') change rows from
    column to column and are not taken for a dash.
    """
    h, w = sub.shape
    if h < 7 or w < 6:
        return None
    band = max(3, int(np.ceil(h / 3.0)))
    for cols in (range(w), range(w - 1, -1, -1)):
        # the dash's rows: those of its first 3 columns; it runs on while a
        # column's ink stays within them (+-1 row)
        first = [np.nonzero(sub[:, c])[0] for c in list(cols)[:3]]
        if any(len(ys) == 0 for ys in first):
            continue
        lo = min(ys[0] for ys in first)
        hi = max(ys[-1] for ys in first)
        if hi - lo + 1 > band:
            continue
        n = 0
        for c in cols:
            ys = np.nonzero(sub[:, c])[0]
            if not len(ys) or ys[0] < lo - 1 or ys[-1] > hi + 1:
                break
            n += 1
        if n < 4 or n > w - 2 or n < 1.5 * (hi - lo + 1):
            continue
        if abs((lo + hi) / 2 - (h - 1) / 2) > 0.2 * h:
            continue  # a bar at a glyph's top or bottom, not a tick
        cut = (0, n) if cols.start == 0 else (w - n, w)
        rest = np.delete(sub, np.s_[cut[0]:cut[1]], axis=1).any(1)
        ys = np.nonzero(rest)[0]
        if len(ys) and ys[-1] - ys[0] + 1 >= max(5, 0.6 * h):
            return cut  # the rest is as tall as a glyph
    return None


def _blobs(gray: np.ndarray, x_off: int, y_off: int) -> List[_Blob]:
    """The marks beside a panel: connected components (8-connected) of the
    pixels at least 32 grey levels above the region's median, without long
    straight lines (:func:`_without_long_lines`); a dash fused with its
    numeral is split into the two (:func:`_split_dash`)."""
    bg = float(np.median(gray))
    binary = (gray.astype(np.float32) > bg + 32).astype(np.uint8)
    binary = _without_long_lines(binary)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, 8)
    weight = np.clip(gray.astype(np.float32) - bg, 0, None)
    out = []

    def blob(sub, wt, x, y):
        ys, xs = np.nonzero(sub)
        tot = wt[ys, xs].sum()
        return _Blob(x + xs.min() + x_off, x + xs.max() + x_off,
                     y + ys.min() + y_off, y + ys.max() + y_off,
                     float((wt[ys, xs] * ys).sum() / tot) + y + y_off,
                     float((wt[ys, xs] * xs).sum() / tot) + x + x_off)

    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < 2 or w > 60 or h > 40:
            continue
        sub = labels[y:y + h, x:x + w] == i
        wt = weight[y:y + h, x:x + w] * sub
        if wt.sum() <= 0:
            continue
        cut = _split_dash(sub)
        if cut is None:
            out.append(blob(sub, wt, x, y))
            continue
        a, b = cut
        for part in (slice(a, b), slice(b, w) if a == 0 else slice(0, a)):
            piece = np.zeros_like(sub)
            piece[:, part] = sub[:, part]
            if piece.any() and wt[piece].sum() > 0:
                out.append(blob(piece, wt * piece, x, y))
    return out


def _is_dash(b: _Blob) -> bool:
    return b.h <= 8 and 4 <= b.w <= 40 and b.w >= 1.5 * b.h


def _is_dot(b: _Blob) -> bool:
    return b.h <= 7 and b.w <= 7 and b.w < 1.5 * b.h


def _label_beside(dash: _Blob, blobs: List[_Blob], side: int) -> list:
    """The glyphs (blobs) of the numeral beside a dash (right: side=1, left:
    side=-1), nearest first; empty when there is none."""
    reach = 6 * max(dash.h, 3) + 20
    cand = []
    for b in blobs:
        if b is dash or b.h < 5 or b.h > 30:
            continue
        if side > 0:
            gap = b.x0 - dash.x1
        else:
            gap = dash.x0 - b.x1
        if not 1 <= gap <= reach:
            continue
        if abs((b.y0 + b.y1) / 2 - dash.cy) > max(3.0, 0.35 * b.h):
            continue
        cand.append(b)
    if not cand:
        return []
    cand.sort(key=lambda b: b.x0 * side)
    group = [cand[0]]
    for b in cand[1:]:
        prev = group[-1]
        gap = (b.x0 - prev.x1) if side > 0 else (prev.x0 - b.x1)
        if gap <= 0.8 * max(prev.h, b.h):
            group.append(b)
    # the first glyph must be close to the dash, as numerals are
    first = group[0]
    gap0 = (first.x0 - dash.x1) if side > 0 else (dash.x0 - first.x1)
    if gap0 > 3 * first.h + 4:
        return []
    return group


def _count_digits(groups: List[list],
                  ref: Optional[float] = None) -> List[float]:
    """Digits per numeral: 1, 2, or 1.5 for "one or two" (0: no numeral,
    -1: text of three glyphs or more).

    Two touching digits form one glyph. Against the scale's typical digit
    width (``ref``: the 75th percentile of its glyph widths, as a narrow "1"
    is the exception), a glyph wider than 1.45x counts as two digits (wider
    than 2.6x: text), one narrower than 1.1x as one; in between (a wide "4", or two narrow "1"s
    touching) it may be either, and the numbering test does not use it.
    """
    widths = [b.w for g in groups for b in g]
    if not widths:
        return [0] * len(groups)
    ref = float(np.percentile(widths, 75)) if ref is None else ref
    out = []
    for g in groups:
        wide = sum(b.w > 1.45 * ref for b in g)
        # a glyph wider than 2.6 digits is three glyphs or more run together
        # (a label written over a numeral): text
        wide += 2 * sum(b.w > 2.6 * ref for b in g)
        unsure = sum(1.1 * ref < b.w <= 1.45 * ref for b in g)
        lo = len(g) + wide
        hi = lo + unsure
        if not g:
            out.append(0)
        elif lo > 2:
            out.append(-1)
        elif lo == hi or lo == 2:
            out.append(lo)
        else:
            out.append(1.5)
    return out


def _fit_grid(rows: np.ndarray, spacing: float):
    """Integer indices and least-squares (offset, step) of rows on a grid of
    approximate ``spacing``; returns (k, a, s, residuals)."""
    k = np.round((rows - rows[0]) / spacing).astype(int)
    for _ in range(3):
        if len(np.unique(k)) < 2:
            break
        s, a = np.polyfit(k, rows, 1)
        k = np.round((rows - a) / s).astype(int)
    s, a = np.polyfit(k, rows, 1)
    return k, a, s, rows - (a + s * k)


def _grid_spacing(rows: np.ndarray) -> Optional[float]:
    """Fine grid step from the sorted rows: the smallest consecutive gap
    that most other gaps are multiples of."""
    d = np.diff(rows)
    d = d[d > 3]
    if len(d) < 2:
        return None
    for cand in np.sort(d):
        ratio = d / cand
        if np.all(np.abs(ratio - np.round(ratio)) < 0.12) and \
                np.sum(np.round(ratio) == 1) >= max(2, 0.3 * len(d)):
            return float(np.median(d[np.round(ratio) == 1]))
    return None


def _inner_end(b: _Blob, side: int) -> int:
    """The end of a mark next to the panel."""
    return b.x0 if side > 0 else b.x1


def _read_column(dashes: List[_Blob], small: List[_Blob],
                 blobs: List[_Blob], side: int, panel) -> DepthScale:
    """Read one column of dashes (same inner end) with the small marks and
    glyphs around it."""
    top, bottom = panel[:2]
    groups = [_label_beside(d, blobs, side) for d in dashes]
    labels = _count_digits(groups)
    if sum(n < 0 for n in labels) > 1:
        return DepthScale(None, 'marks beside text, not a depth scale')
    order = np.argsort([d.cy for d in dashes])
    items = [(dashes[i], labels[i], groups[i]) for i in order
             if labels[i] >= 0]
    # major dashes set the grid; clearly shorter ones (minor ticks) and
    # small marks are added afterwards where they fit it
    # the numbered dashes set the grid (else the longer dashes); the others
    # and the small marks are added where they fit it
    major = [it for it in items if it[1] > 0]
    if len(major) < 3:
        long_ = 0.7 * float(np.median([d.w for d, _, _ in items]))
        major = [it for it in items if it[0].w >= long_]
    minor = [it[0] for it in items if it not in major] + small
    if len(major) < 3:
        return DepthScale(None, 'fewer than 3 depth-scale marks')
    rows = np.array([d.cy for d, _, _ in major])
    spacing = _grid_spacing(rows)
    if spacing is None:
        return DepthScale(None, 'marks are not regularly spaced')
    k, a, s, res = _fit_grid(rows, spacing)
    tol = max(1.0, 0.05 * s)
    if np.abs(res).max() > tol or len(np.unique(k)) != len(k):
        return DepthScale(
            None,
            f'marks off a regular grid by up to {np.abs(res).max():.1f} px')
    marks = [(d.cy, 'numbered' if n else 'dash', n, 2 * ki)
             for (d, n, _), ki in zip(major, k)]
    taken = set(2 * k)
    x0 = min(d.x0 for d, _, _ in major)
    x1 = max(d.x1 for d, _, _ in major)
    inner = int(np.median([_inner_end(d, side) for d, _, _ in major]))
    kmin, kmax = 2 * k.min(), 2 * k.max() + 1
    # minor marks: a short tick starts where the dashes start; a dot sits
    # elsewhere (half-cm dots). Off the half grid they are ignored.
    for b in minor:
        if not x0 - 3 <= b.cx <= x1 + 3:
            continue
        kf = (b.cy - a) / (s / 2)
        ki = int(round(kf))
        if abs(kf - ki) * s / 2 > tol or not kmin <= ki <= kmax or \
                ki in taken:
            continue
        kind = 'dash' if abs(_inner_end(b, side) - inner) <= 1 else 'dot'
        if kind == 'dot' and ki % 2 == 0:
            continue  # a dot on a dash row: an artefact, not a mark
        marks.append((b.cy, kind, 0, ki))
        taken.add(ki)
    # numerals without their dash (an occluded tick): the numeral column
    # tells which cm they are; used for the numbering, not for the fit
    num_x = [g[0].x0 if side > 0 else g[0].x1 for _, n, g in major if n > 0]
    if num_x:
        nx = float(np.median(num_x))
        glyph_w = float(
            np.percentile([b.w for _, _, g in items for b in g], 75))
        used = {id(b) for _, _, g in items for b in g}
        orphans = [
            b for b in blobs
            if 5 <= b.h <= 30 and id(b) not in used and abs((
                b.x0 if side > 0 else b.x1) - nx) <= 2
        ]
        for b in orphans:
            cy = (b.y0 + b.y1) / 2
            kf = (cy - a) / s
            ki = int(round(kf))
            if abs(kf - ki) * s > max(2.0, 0.1 * s) or 2 * ki in taken:
                continue
            # a stand-in dash just before the glyph collects its numeral
            x = b.x0 - 1 if side > 0 else b.x1 + 1
            g = _label_beside(_Blob(x, x, int(cy), int(cy), cy, x), blobs,
                              side)
            n = _count_digits([g], glyph_w)[0]
            if 1 <= n <= 2:
                marks.append((cy, 'numbered', n, 2 * ki, 'orphan'))
                taken.add(2 * ki)
    marks = [m for m in marks if top - 3 <= m[0] <= bottom + 3]
    marks.sort()
    k = np.array([m[3] for m in marks])
    # the final step: least squares over every mark on the fine grid (half
    # the major step), numerals without their dash left out
    fit = [i for i, m in enumerate(marks) if len(m) == 4]
    s, a = np.polyfit(k[fit], np.array([marks[i][0] for i in fit]), 1)
    res = np.array([marks[i][0] for i in fit]) - (a + s * k[fit])
    if np.abs(res).max() > tol:
        return DepthScale(
            None,
            f'marks off a regular grid by up to {np.abs(res).max():.1f} px')
    num = [i for i, m in enumerate(marks) if m[1] == 'numbered']
    if len(num) < 3:
        return DepthScale(
            None, 'fewer than 3 numerals beside the marks: which mark is '
            '1 cm cannot be told')
    kn = k[num]
    step = int(np.gcd.reduce(np.diff(kn)))  # in half-dash steps
    if step not in (2, 4):
        return DepthScale(
            None, f'numerals every {step / 2:g} dashes: unusual scale')
    k0 = kn[0]
    fits = []
    for cm_every in (1, 2):  # numerals every 1 or every 2 cm
        per_cm = step / cm_every  # grid steps per cm
        ok = True
        for (row, kind, ndig, *_), ki in zip(marks, k):
            cm = (ki - k0) / per_cm
            # dots are half-cm marks on most screens, but a screen numbered
            # every 2 cm may mark the odd cm with dots: both are allowed,
            # and where that leaves two readings the scale is refused
            if abs(cm * 2 - round(cm * 2)) > 1e-6:
                ok = False  # every mark at a multiple of 0.5 cm
            if kind == 'numbered':
                if abs(cm - round(cm)) > 1e-6 or cm < 0:
                    ok = False
                elif ndig in (1, 2) and (round(cm) >= 10) != (ndig == 2):
                    ok = False  # digits must match the value
        if ok:
            fits.append((cm_every, per_cm))
    if len(fits) != 1:
        why = ('numerals every 1 or every 2 cm cannot be told apart'
               if fits else 'no numbering fits the numerals')
        return DepthScale(None, 'uncertain: ' + why)
    cm_every, per_cm = fits[0]
    px_per_cm = s * per_cm
    row0 = a + s * k0
    if abs(row0 - top) > max(3.0, 0.15 * px_per_cm):
        return DepthScale(
            None, f'uncertain: the scale\'s 0 (row {row0:.0f}) is not at the '
            f'panel top (row {top})')
    # the scale describes this panel: its marks run down to the panel's
    # bottom (an occluded last mark leaves at most 1.6 cm unmarked)
    deepest = max(m[0] for m in marks)
    if bottom - 1 - deepest > 1.6 * px_per_cm:
        return DepthScale(
            None, f'uncertain: the scale\'s marks end at row {deepest:.0f}, '
            f'{(bottom - 1 - deepest) / px_per_cm:.1f} cm above the panel '
            f'bottom (row {bottom})')
    n_cm = int(np.floor((panel[1] - 1 - row0) / px_per_cm + 1e-6)) + 1
    return DepthScale(
        cm_per_px=1.0 / px_per_cm,
        status='ok',
        tick_rows=row0 + px_per_cm * np.arange(n_cm),
        marks=[(m[0], m[1]) for m in marks],
        columns=(x0, x1),
        panel=panel,
        numbering='every cm' if cm_every == 1 else 'every 2 cm',
        residual_px=float(np.abs(res).max()))


def read_depth_scale_marks(
        image: np.ndarray,
        panel: Optional[Tuple[int, int, int, int]] = None) -> DepthScale:
    """Read cm per pixel from the depth scale beside the M-mode panel.

    Args:
        image (np.ndarray): (H, W) or (H, W, 3) uint8 screen capture.
        panel (tuple, optional): ``(top, bottom, left, right)``; found with
            :func:`find_mmode_panel` when None.

    Returns:
        DepthScale: ``cm_per_px`` and the marks used, or ``cm_per_px=None``
        with the reason in ``status``.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 32:
        return DepthScale(
            None, f'no M-mode panel: image of shape {image.shape} is too '
            'small')
    if panel is None:
        try:
            panel = find_mmode_panel(image)
        except ValueError as e:
            return DepthScale(None, str(e))
    gray = _gray(image)
    h, w = gray.shape
    top, bottom, left, right = panel
    margin = max(int(0.12 * w), 80)
    y0 = max(top - 30, 0)
    y1 = min(bottom + 30, h)
    results = []
    searched = []
    for side, (c0, c1) in ((1, (right, min(right + margin, w))),
                           (-1, (max(left - margin, 0), left))):
        if c1 - c0 < 8:
            continue
        searched.append(f'{c0}-{c1} ({"right" if side > 0 else "left"})')
        blobs = _blobs(gray[y0:y1, c0:c1], c0, y0)
        dashes = [
            b for b in blobs
            if _is_dash(b) and top - 3 <= b.cy <= bottom + 3
        ]
        small = [b for b in blobs if _is_dot(b) or _is_dash(b)]
        # dashes of one scale share their inner end (next to the panel)
        ends = np.array([d.x0 if side > 0 else d.x1 for d in dashes])
        used = set()
        for e in sorted(set(ends.tolist()), key=lambda e: -np.sum(
                np.abs(ends - e) <= 2)):
            members = [
                i for i, v in enumerate(ends)
                if abs(v - e) <= 2 and i not in used
            ]
            if len(members) < 3:
                continue
            used.update(members)
            results.append(
                _read_column([dashes[i] for i in members],
                             [b for b in small if b not in
                              [dashes[i] for i in members]], blobs, side,
                             panel))
    good = [r for r in results if r.ok]
    if len(good) == 1:
        return good[0]
    if len(good) > 1:
        vals = [r.cm_per_px for r in good]
        if max(vals) / min(vals) > 1.01:
            return DepthScale(None, 'two depth scales disagree', panel=panel)
        return max(good, key=lambda r: len(r.marks))
    if results:
        why = results[0].status
    else:
        why = ('no depth-scale marks found: no column of 3 or more dashes '
               'with a common inner end')
    where = (f'M-mode panel rows {top}-{bottom}, columns {left}-{right}; '
             f'scale searched in rows {y0}-{y1}, columns '
             f'{" and ".join(searched) or "none (no room beside the panel)"}')
    return DepthScale(None, f'{why} [{where}]', panel=panel)


def read_depth_scale(image: np.ndarray,
                     strip: Optional[Tuple[int, int, int, int]] = None
                     ) -> Optional[float]:
    """cm per pixel from the depth scale, or None when it cannot be read
    for certain (see :func:`read_depth_scale_marks` for the reason)."""
    return read_depth_scale_marks(image, strip).cm_per_px
