# Copyright (c) mmecho contributors. All rights reserved.
"""Does an annotation belong to the image it is paired with?

Measuring ground-truth masks (``tools/measure.py --from-annotations``) never
looks at the pixels, so an image swapped for another capture of the same
size would be measured as if nothing had happened. The walls of an M-mode
strip are brighter than the blood next to them: along the annotated borders
between tissue and blood (IVS bottom and LVPW top facing the LV cavity; the
aortic walls around the AoR lumen and the posterior aortic wall above the LA)
the tissue side should be the brighter one in nearly every column.

The score is the share of such columns, averaged over the view's borders.
On MEIS phantoms (``make_meis_phantom(num=80, seed=0 / 1)``, 160 images) it
is at least 0.83 for the true image, while 98-99 % of the pairs with another
image of the same size score below 0.7 (the rest have walls where the true
image has them, at that size); :func:`annotation_mismatch` flags a score
below 0.7. A heuristic: it catches a wrong image, it cannot prove the right
one.

Screens with a model's masks burned in: only their grey pixels are compared
(see :func:`tissue_brighter_share`); ``python
tools/analysis_tools/benchmark_annotation_check.py WORK_DIR`` measures the
check on phantoms whose screens have such masks (figures in
``docs/amem.md``).
"""
from typing import Dict, Optional, Tuple

import numpy as np

from .mmode_profiles import band_edges
from .screen_colour import coloured_pixels

# (class, which edge, tissue above the edge?) of borders between a wall and
# blood
TISSUE_BLOOD_BORDERS = {
    'LV': [('IVS', 'bottom', True), ('LVPW', 'top', False)],
    'AV': [('AoR', 'top', True), ('AoR', 'bottom', False),
           ('LA', 'top', True)],
}


def _edges(band) -> Tuple[np.ndarray, np.ndarray]:
    if isinstance(band, tuple):
        return np.asarray(band[0], np.float64), np.asarray(band[1], np.float64)
    return band_edges(band)


def _side_means(cum: np.ndarray, count: np.ndarray, edge: np.ndarray,
                below: bool, gap: int, depth: int) -> np.ndarray:
    """Mean gray value ``gap``..``depth`` px above / below ``edge`` per
    column over the grey pixels (``cum``, ``count``: column-wise cumulative
    sums of the grey values and of the grey pixels); NaN where that falls
    outside the image, the edge is NaN or fewer than half of the pixels are
    grey."""
    h = cum.shape[0] - 1
    cols = np.arange(len(edge))
    out = np.full(len(edge), np.nan)
    ok = np.isfinite(edge)
    e = np.where(ok, edge, 0.0)
    if below:
        r0, r1 = np.floor(e + gap), np.floor(e + depth)
    else:
        r0, r1 = np.floor(e - depth), np.floor(e - gap)
    r0, r1 = r0.astype(int), r1.astype(int)
    ok &= (r0 >= 0) & (r1 <= h) & (r1 > r0)
    r0, r1, c = r0[ok], r1[ok], cols[ok]
    n = count[r1, c] - count[r0, c]
    mean = (cum[r1, c] - cum[r0, c]) / np.maximum(n, 1)
    out[ok] = np.where(n >= 0.5 * (r1 - r0), mean, np.nan)
    return out


def tissue_brighter_share(image: np.ndarray,
                          bands: Dict[str, object],
                          gap: int = 2,
                          depth: int = 6) -> Optional[float]:
    """Share of the columns where the tissue side of a tissue/blood border
    is brighter than the blood side, averaged over the view's borders.

    Args:
        image (np.ndarray): (H, W) or (H, W, 3) BGR uint8.
        bands (dict): class -> (H, W) mask or ``(top, bottom)`` edges
            (as :func:`mmecho.measurement.measure_mmode` takes them).
        gap, depth (int): the sides are the rows ``gap``..``depth`` px
            from the border.

    Returns:
        float or None: in [0, 1]; None when the view is not LV or AV, a
        border has fewer than 20 comparable columns, or the band widths do
        not fit the image (then nothing can be said).

    Only grey pixels are compared: what a screenshot has burned in over the
    panel in colour (a model's masks, their boxes, calipers; and 2 px around
    them, where JPEG spreads the colour) is left out of the side means, and
    a column whose side is mostly colour is not comparable. Under a mask
    the brightness is the mask's as much as the tissue's (a yellow mask
    over a cavity makes the blood the brighter side), so no channel of it
    can be compared with the grey beside it.
    """
    lv = 'IVS' in bands and 'LVPW' in bands
    av = 'AoR' in bands and 'LA' in bands
    if lv == av:
        return None
    gray = image
    grey = np.ones(gray.shape[:2], bool)
    if gray.ndim == 3:
        import cv2
        colour = coloured_pixels(gray)
        if colour is not None:
            # JPEG spreads a colour's chroma over 2 px around it
            grey = ~cv2.dilate(colour.astype(np.uint8), np.ones(
                (5, 5), np.uint8)).astype(bool)
        gray = cv2.cvtColor(gray[..., :3], cv2.COLOR_BGR2GRAY)
    gray = gray.astype(np.float64) * grey
    cum = np.vstack([np.zeros((1, gray.shape[1])), np.cumsum(gray, 0)])
    count = np.vstack([np.zeros((1, gray.shape[1])), np.cumsum(grey, 0)])
    shares = []
    for cls, which, tissue_above in TISSUE_BLOOD_BORDERS['LV' if lv else 'AV']:
        top, bottom = _edges(bands[cls])
        edge = top if which == 'top' else bottom
        if len(edge) != gray.shape[1]:
            return None
        above = _side_means(cum, count, edge, False, gap, depth)
        below = _side_means(cum, count, edge, True, gap, depth)
        both = np.isfinite(above) & np.isfinite(below)
        if both.sum() < 20:
            return None
        tissue, blood = (above, below) if tissue_above else (below, above)
        shares.append(float(np.mean(tissue[both] > blood[both])))
    return float(np.mean(shares))


def annotation_mismatch(image: np.ndarray,
                        bands: Dict[str, object],
                        min_share: float = 0.7) -> Optional[str]:
    """A status when the annotation's walls are not where the image's are
    (see :func:`tissue_brighter_share`), else None."""
    share = tissue_brighter_share(image, bands)
    if share is None or share >= min_share:
        return None
    return (f'image does not match its annotation: the tissue side of the '
            f'annotated wall borders is brighter than the blood side in only '
            f'{100 * share:.0f} % of the columns (mean over the borders; '
            f'expected >= '
            f'{100 * min_share:.0f} %)')
