# Copyright (c) mmecho contributors. All rights reserved.
"""MEIS phantom: M-mode screen captures with COCO masks and a truth table.

Each image is a 1024x768 (W x H) capture like the Philips exports of MEIS: a
small 2D sector on top, the M-mode strip (depth x time) below with an ECG
trace and a depth scale (1 cm ticks, labelled every 2 cm) on its right.

LV type: chest wall, RV, interventricular septum (IVS), LV cavity, posterior
wall (LVPW) and pericardium, moving with a cardiac cycle whose systole
(end-diastole ED -> end-systole ES) is a half cosine, followed by rapid
filling, diastasis and an atrial kick. AV type: aortic root (anterior wall,
lumen with valve leaflets, posterior wall) moving anteriorly in systole, and
the left atrium below it, largest at end-systole.

Mask conventions (what the truth table measures, in cm, inner edges):
IVS and LVPW masks are the wall bands; IVSd/IVSs and LVPWd/LVPWs are their
heights at ED/ES; LVIDd/LVIDs is the gap between them. The AoR mask is the
aortic lumen between the inner edges of its walls, AoR diameter is its height
at ED; the LA mask is the atrial cavity, LA dimension is its height at ES.
Each cycle has its own systolic amplitude (beat-to-beat variation), so the
truth table gives the mean over the complete cycles in the strip and
``truth_cycles.csv`` every cycle.
"""
import csv
import dataclasses
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmecho.utils import atomic_write, atomic_write_text
from .mmode_screen import (ScreenStyle, classic_style, draw_screen,
                           philips_style, sample_style)
from .ultrasound import complex_scatterers, form_bmode

CLASSES = ('IVS', 'LVPW', 'LA', 'AoR')
LV_INDICATORS = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs')
AV_INDICATORS = ('AoR', 'LA')
TRUTH_FILE = 'truth_measurements.csv'
CYCLES_FILE = 'truth_cycles.csv'
TRUTH_STYLE_FIELDS = ('panel_top', 'panel_bottom', 'panel_left',
                      'panel_right', 'depth_cm', 'scale_style',
                      'jpeg_quality')



def _wave(phase: np.ndarray, ts: float) -> np.ndarray:
    """Contraction waveform in [0, 1] over one cycle: 0 at ED (phase 0),
    1 at ES (phase ``ts``), rapid filling, diastasis, atrial kick."""
    w = np.zeros_like(phase)
    tf = 0.18
    sys_ = phase < ts
    w[sys_] = 0.5 * (1 - np.cos(np.pi * phase[sys_] / ts))
    fill = (phase >= ts) & (phase < ts + tf)
    w[fill] = 0.15 + 0.85 * 0.5 * (1 + np.cos(np.pi * (phase[fill] - ts) / tf))
    dia = phase >= ts + tf
    # diastasis at 0.15 then the atrial kick brings it to 0 at the next ED
    rest = (phase[dia] - ts - tf) / max(1 - ts - tf, 1e-6)
    w[dia] = 0.15 * np.where(rest < 0.6, 1.0, 0.5 *
                             (1 + np.cos(np.pi * (rest - 0.6) / 0.4)))
    return w


class _Timeline:
    """Cardiac timing of one strip: per column, the cycle index, the
    contraction level w (scaled per cycle) and ED/ES columns."""

    def __init__(self, rng, n_cols, px_per_s, hr_bpm, ts):
        self.period_px = 60.0 / hr_bpm * px_per_s
        self.offset = rng.uniform(0, self.period_px)
        x = np.arange(n_cols, dtype=np.float64)
        pos = (x - self.offset) / self.period_px
        self.cycle = np.floor(pos).astype(int)
        phase = pos - self.cycle
        n_cyc = self.cycle.max() - self.cycle.min() + 1
        self.amp = {
            int(k): float(rng.uniform(0.92, 1.08))
            for k in range(self.cycle.min(),
                           self.cycle.min() + n_cyc)
        }
        amp = np.array([self.amp[int(k)] for k in self.cycle])
        self.w = _wave(phase, ts) * amp
        self.ts = ts
        self.n_cols = n_cols

    def complete_cycles(self):
        """(k, ED column, ES column) for cycles whose ED and ES both lie in
        the strip (fractional columns)."""
        out = []
        for k, amp in self.amp.items():
            ed = self.offset + k * self.period_px
            es = ed + self.ts * self.period_px
            if ed >= 1 and es <= self.n_cols - 2:
                out.append((k, ed, es, amp))
        return out


def _lv_geometry(params, w):
    """Boundaries (cm from the transducer) for contraction level ``w``."""
    p = params
    ivs = p['IVSd'] + (p['IVSs'] - p['IVSd']) * w
    lvid = p['LVIDd'] + (p['LVIDs'] - p['LVIDd']) * w
    lvpw = p['LVPWd'] + (p['LVPWs'] - p['LVPWd']) * w
    y2 = p['y2d'] + 0.4 * (p['LVIDd'] - lvid)
    y1 = y2 - ivs
    y3 = y2 + lvid
    y4 = y3 + lvpw
    return dict(y1=y1, y2=y2, y3=y3, y4=y4)


def _av_geometry(params, w):
    p = params
    shift = -p['excursion'] * w  # anterior motion in systole
    ant_top = p['ant_top'] + shift
    ant_bot = ant_top + p['wall']
    post_top = ant_bot + p['AoR']  # AoR lumen constant
    post_bot = post_top + p['wall']
    la = p['LAd'] + (p['LAs'] - p['LAd']) * w
    la_bot = post_bot + la
    return dict(
        ant_top=ant_top,
        ant_bot=ant_bot,
        post_top=post_top,
        post_bot=post_bot,
        la_bot=la_bot)


def _sample_params(rng, kind):
    abnormal = rng.random() < 0.2
    if kind == 'LV':
        ivsd = float(np.clip(rng.normal(0.9, 0.12), 0.6, 1.2))
        lvpwd = float(np.clip(rng.normal(0.9, 0.12), 0.6, 1.2))
        lvidd = float(np.clip(rng.normal(4.8, 0.45), 3.8, 5.8))
        fs = float(rng.uniform(0.25, 0.42))
        if abnormal:
            if rng.random() < 0.5:  # hypertrophy
                ivsd = float(rng.uniform(1.3, 1.7))
                lvpwd = float(rng.uniform(1.2, 1.6))
            else:  # dilated, poor function
                lvidd = float(rng.uniform(6.0, 7.0))
                fs = float(rng.uniform(0.10, 0.18))
        return dict(
            IVSd=ivsd,
            LVPWd=lvpwd,
            LVIDd=lvidd,
            LVIDs=lvidd * (1 - fs),
            IVSs=ivsd * (1 + rng.uniform(0.3, 0.6)),
            LVPWs=lvpwd * (1 + rng.uniform(0.4, 0.8)),
            y2d=float(rng.uniform(3.0, 4.0)),
            abnormal=abnormal)
    aor = float(np.clip(rng.normal(3.0, 0.3), 2.3, 3.8))
    lad = float(np.clip(rng.normal(2.6, 0.3), 1.9, 3.3))
    las = lad * rng.uniform(1.15, 1.35)
    if abnormal:
        las = float(rng.uniform(4.3, 5.2))  # dilated atrium
        lad = las / rng.uniform(1.1, 1.3)
    return dict(
        AoR=aor,
        LAd=lad,
        LAs=las,
        wall=float(rng.uniform(0.2, 0.3)),
        ant_top=float(rng.uniform(3.0, 3.8)),
        excursion=float(rng.uniform(0.6, 1.1)),
        abnormal=abnormal)


def _measurement_lines(params, kind) -> List[str]:
    """The sonographer's measurement list printed on the screen."""
    keys = LV_INDICATORS if kind == 'LV' else ('AoR', )
    vals = {k: params.get(k) for k in keys}
    if kind == 'AV':
        vals['LA'] = params['LAs']
    return [f'-{k}(cm): {v:.3f}' for k, v in vals.items() if v is not None]


def _bands_to_echogenicity(depth_cm, bands):
    """Piecewise echogenicity from a list of (top, bottom, value) arrays
    (each (W,)) painted in order over a background."""
    ech = np.full(depth_cm.shape, 0.12, np.float32)
    for top, bot, val in bands:
        inside = (depth_cm >= top[None]) & (depth_cm < bot[None])
        ech[inside] = val
    return ech


def _polygon(top_px: np.ndarray,
             bot_px: np.ndarray,
             x0: int,
             step: int = 2) -> List[float]:
    """A closed polygon following ``top_px`` left to right and ``bot_px``
    back, sampled every ``step`` columns (pixel-edge coordinates)."""
    n = len(top_px)
    idx = np.unique(np.r_[np.arange(0, n, step), n - 1])
    xs = x0 + idx.astype(np.float64)
    xs_edge = xs.copy()
    xs_edge[0] -= 0.5
    xs_edge[-1] += 0.5
    pts = [(x, y) for x, y in zip(xs_edge + 0.5, top_px[idx])]
    pts += [(x, y) for x, y in zip((xs_edge + 0.5)[::-1], bot_px[idx][::-1])]
    return [round(float(v), 2) for p in pts for v in p]


def _extent_cm(params, kind) -> float:
    """Deepest tissue boundary drawn (cm), at any contraction level."""
    if kind == 'LV':
        return max(_lv_geometry(params, w)['y4'] for w in (0.0, 1.1)) + 0.35
    return max(_av_geometry(params, w)['la_bot'] for w in (0.0, 1.1)) + 0.4


PHILIPS_SHARE = 0.25  # share of the 'vendor' screens with the Philips layout


def _side_rng(rng: np.random.Generator) -> np.random.Generator:
    """A generator derived from ``rng`` without drawing from it (its seed
    sequence spawns a child), so ``rng``'s own stream is unchanged."""
    seq = getattr(rng.bit_generator, 'seed_seq', None)
    if seq is None or not hasattr(seq, 'spawn'):
        return rng
    return np.random.default_rng(seq.spawn(1)[0])


def _burn_in_masks(img: np.ndarray, style: ScreenStyle, bands: Dict,
                   rng: np.random.Generator) -> None:
    """A model's output as screenshots show it: each structure (rows
    ``top..bottom`` per panel column, px) filled with a translucent colour
    (opacity 0.3-0.6) and outlined by its box, over a stretch of the
    panel's columns."""
    top, bottom, left, right = style.panel
    # BGR; yellow and cyan over a cavity make it brighter than the tissue
    colours = [(0, 0, 255), (0, 255, 255), (255, 255, 0), (0, 200, 0),
               (255, 120, 0), (200, 0, 200)]
    first = int(rng.integers(len(colours)))
    n = right - left
    c0 = int(rng.integers(0, n // 4))
    c1 = int(rng.integers(3 * n // 4, n))
    rows = np.arange(style.height, dtype=np.float32)[:, None]
    for k, (t, b) in enumerate(bands.values()):
        colour = np.array(colours[(first + k) % len(colours)], np.float32)
        alpha = float(rng.uniform(0.3, 0.6))
        cols = slice(left + c0, left + c1)
        inside = (rows >= t[None, c0:c1]) & (rows < b[None, c0:c1])
        region = img[:, cols].astype(np.float32)
        region[inside] = (1 - alpha) * region[inside] + alpha * colour
        img[:, cols] = np.clip(np.round(region), 0, 255).astype(np.uint8)
        y0, y1 = int(np.floor(t[c0:c1].min())), int(np.ceil(b[c0:c1].max()))
        cv2.rectangle(img, (left + c0, max(y0 - 2, top)),
                      (left + c1 - 1, min(y1 + 2, bottom - 1)),
                      tuple(int(v) for v in colour), 1)


def render_meis_image(rng: np.random.Generator,
                      kind: str,
                      style: Optional[ScreenStyle] = None,
                      **style_overrides) -> Dict:
    """Render one capture; returns image, annotations, truth and style.

    Args:
        style (ScreenStyle, optional): the screen layout; drawn at random
            (:func:`sample_style`) when None, with a depth that shows the
            whole heart.
        **style_overrides: fields of the drawn style to set (e.g.
            ``burned_scale=False``).
    """
    hr = float(rng.uniform(55, 110))
    ts = float(rng.uniform(0.32, 0.40))
    params = _sample_params(rng, kind)
    if style is None:
        min_depth = _extent_cm(params, kind) + 0.6
        style = sample_style(rng, min_depth=min_depth)
        # the Philips layout on a share of the screens, drawn from a side
        # stream so that the other screens stay what they were
        side = _side_rng(rng)
        if side.random() < PHILIPS_SHARE:
            style = philips_style(side, min_depth=min_depth)
    if style_overrides:
        style = dataclasses.replace(style, **style_overrides)
    strip_top, strip_bottom, strip_left, strip_right = style.panel
    n_cols = strip_right - strip_left
    n_rows = strip_bottom - strip_top
    cm_per_px = style.cm_per_px
    px_per_s = n_cols / float(rng.uniform(2.5, 4.0))  # strip = 2.5-4 s
    tl = _Timeline(rng, n_cols, px_per_s, hr, ts)

    depth_cm = (np.arange(n_rows, dtype=np.float32)[:, None] + 0.5) * \
        cm_per_px * np.ones((1, n_cols), np.float32)
    # material coordinate: tissue moves with the nearest wall
    if kind == 'LV':
        g = _lv_geometry(params, tl.w)
        g0 = _lv_geometry(params, 0.0)
        bands = [
            (np.full(n_cols, 0.3), np.full(n_cols, 1.1), 0.9),
            (np.full(n_cols, 1.1), g['y1'] - 0.05, 0.004),  # RV blood
            (g['y1'], g['y2'], 0.35),  # IVS
            (g['y2'], g['y3'], 0.002),  # LV blood
            (g['y3'], g['y4'], 0.4),  # LVPW
            (g['y4'], g['y4'] + 0.35, 1.6),  # pericardium
        ]
        ref = (g['y2'] + g['y3']) / 2 - (g0['y2'] + g0['y3']) / 2
    else:
        g = _av_geometry(params, tl.w)
        g0 = _av_geometry(params, 0.0)
        bands = [
            (np.full(n_cols, 0.3), np.full(n_cols, 1.0), 0.9),
            (np.full(n_cols, 1.0), g['ant_top'] - 0.05, 0.004),  # RVOT
            (g['ant_top'], g['ant_bot'], 1.2),
            (g['ant_bot'], g['post_top'], 0.003),
            (g['post_top'], g['post_bot'], 1.2),
            (g['post_bot'], g['la_bot'], 0.002),
            (g['la_bot'], g['la_bot'] + 0.4, 1.0),
        ]
        ref = g['ant_top'] - g0['ant_top']
    ech = _bands_to_echogenicity(depth_cm, bands)
    if kind == 'AV':
        # aortic valve leaflets: a box open in systole
        lum_c = (g['ant_bot'] + g['post_top']) / 2
        open_ = tl.w > 0.25
        half = np.where(open_, 0.42 * params['AoR'], 0.02)
        for sign in (-1, 1):
            y = lum_c + sign * half
            d = np.abs(depth_cm - y[None])
            ech[(d < 0.05)] = np.maximum(ech[(d < 0.05)], 0.6)
    # speckle in material coordinates (moves with the tissue)
    scat_h = n_rows + 200
    scat = complex_scatterers((scat_h, n_cols), rng)
    scat = cv2.GaussianBlur(scat, (0, 0), sigmaX=6.0, sigmaY=0.01)
    scat *= 2.5  # restore variance lost to the temporal correlation
    # displacement fades away from the heart (deep tissue stays still)
    centre = float(np.mean(bands[2][0] + bands[-1][1]) / 2)
    fade = np.exp(-((depth_cm[:, :1] - centre) / 4.0)**4)
    map_y = (np.arange(n_rows)[:, None] + 100 -
             fade * ref[None] / cm_per_px).astype(np.float32)
    map_x = np.broadcast_to(
        np.arange(n_cols, dtype=np.float32)[None], (n_rows, n_cols))
    moving = cv2.remap(scat, map_x, map_y, cv2.INTER_LINEAR)
    strip = form_bmode(
        moving,
        ech, (1.2, 0.8),
        depth_mm=depth_cm * 10,
        attenuation_db_per_mm=0.06,
        tgc_fraction=0.6,
        dynamic_range_db=50,
        gain_db=float(rng.uniform(-3, 3)),
        rng=rng)

    img = np.zeros((style.height, style.width, 3), np.uint8)
    img[strip_top:strip_bottom, strip_left:strip_right] = strip[..., None]
    pos = (np.arange(n_cols) - tl.offset) / tl.period_px
    draw_screen(img, style, rng, kind, pos - np.floor(pos), px_per_s, hr,
                _measurement_lines(params, kind))

    def to_px(cm):
        return strip_top + np.asarray(cm) / cm_per_px

    if kind == 'LV':
        regions = {
            'IVS': (g['y1'], g['y2']),
            'LVPW': (g['y3'], g['y4']),
        }
    else:
        regions = {
            'AoR': (g['ant_bot'], g['post_top']),
            'LA': (g['post_bot'], g['la_bot']),
        }
    anns = {
        name: _polygon(to_px(top), to_px(bot), strip_left)
        for name, (top, bot) in regions.items()
    }
    if 'masks' in style.overlays:
        _burn_in_masks(img, style, {
            name: (to_px(top), to_px(bot))
            for name, (top, bot) in regions.items()
        }, rng)
    cycles = []
    for k, ed, es, amp in tl.complete_cycles():
        row = dict(cycle=k, ed_col=strip_left + ed, es_col=strip_left + es)
        if kind == 'LV':
            gd = _lv_geometry(params, 0.0)
            gs = _lv_geometry(params, amp)
            row.update(
                IVSd=gd['y2'] - gd['y1'],
                LVIDd=gd['y3'] - gd['y2'],
                LVPWd=gd['y4'] - gd['y3'],
                IVSs=gs['y2'] - gs['y1'],
                LVIDs=gs['y3'] - gs['y2'],
                LVPWs=gs['y4'] - gs['y3'])
        else:
            gd = _av_geometry(params, 0.0)
            gs = _av_geometry(params, amp)
            row.update(
                AoR=gd['post_top'] - gd['ant_bot'],
                LA=gs['la_bot'] - gs['post_bot'])
        cycles.append(row)
    return dict(
        image=img,
        anns=anns,
        cycles=cycles,
        cm_per_px=cm_per_px,
        s_per_px=1.0 / px_per_s,
        heart_rate_bpm=hr,
        abnormal=params['abnormal'],
        style=style)


def make_meis_phantom(out_dir: str,
                      num: int = 20,
                      seed: int = 0,
                      test_fraction: float = 0.25,
                      empty_images: Optional[int] = None,
                      style: str = 'vendor',
                      image_format: str = 'jpg') -> Dict:
    """Write a MEIS-format phantom.

    Layout (as the real MEIS)::

        out_dir/raw_image/I1000IM_0010.jpg ...
        out_dir/Allmode_train.json, Allmode_test.json   (COCO, polygons)
        out_dir/truth_measurements.csv                  (cm, per image)
        out_dir/truth_cycles.csv                        (cm, per cycle)

    Args:
        num (int): Number of annotated images (half LV, half AV).
        seed (int): Random seed; the output is deterministic for a seed.
        test_fraction (float): Share of images in ``Allmode_test.json``.
        empty_images (int, optional): Extra images without annotations put in
            the training file (real exports have some); default 1 if
            ``num >= 8`` else 0.
        style (str): ``'vendor'`` draws every screen with a random
            vendor-like layout (:mod:`.mmode_screen`: panel size and place,
            depth, tick/numeral/dot styles, text, ECG, cursor, JPEG quality
            60-95); ``'classic'`` keeps one fixed 1024 x 768 layout.
        image_format (str): ``'jpg'`` (screen captures, as MEIS) or
            ``'dcm'``: the same cases as ultrasound DICOM with the Sequence
            of Ultrasound Regions (the M-mode region: panel, cm per pixel in
            depth, seconds per pixel in time), every other one without a
            burned-in depth scale, half of them JPEG-baseline compressed.

    Returns:
        dict: Paths of the written files.
    """
    rng = np.random.default_rng(seed)
    if empty_images is None:
        empty_images = 1 if num >= 8 else 0
    img_dir = osp.join(out_dir, 'raw_image')
    os.makedirs(img_dir, exist_ok=True)
    categories = [
        dict(id=i + 1, name=n, supercategory='heart')
        for i, n in enumerate(CLASSES)
    ]
    cat_id = {c['name']: c['id'] for c in categories}
    n_test = int(round(num * test_fraction)) if num > 1 else 0
    order = rng.permutation(num)
    test_ids = set(order[:n_test].tolist())
    splits = {
        'train': dict(images=[], annotations=[], categories=categories),
        'test': dict(images=[], annotations=[], categories=categories)
    }
    truth_rows, cycle_rows = [], []
    ann_id = 1
    for i in range(num + empty_images):
        empty = i >= num
        kind = 'LV' if i % 2 == 0 else 'AV'
        stem = f'I{1000 + i}IM_{10 + (i * 7) % 90:04d}'
        file_name = stem + '.jpg'
        overrides = {}
        if image_format == 'dcm':
            file_name = stem + '.dcm'
            overrides['burned_scale'] = i % 3 != 2
        r = render_meis_image(rng, kind,
                              classic_style() if style == 'classic' else None,
                              **overrides)
        quality = r['style'].jpeg_quality
        if image_format == 'dcm':
            _write_dicom(osp.join(img_dir, file_name), r, i, quality)
        else:
            with atomic_write(osp.join(img_dir, file_name)) as f:
                ok, buf = cv2.imencode('.jpg', r['image'],
                                       [cv2.IMWRITE_JPEG_QUALITY, quality])
                f.write(buf.tobytes())
        img_h, img_w = r['image'].shape[:2]
        split = 'test' if i in test_ids else 'train'
        image_id = i + 1
        splits[split]['images'].append(
            dict(id=image_id, file_name=file_name, height=img_h, width=img_w))
        if empty:
            continue
        for name, poly in r['anns'].items():
            xs, ys = np.array(poly[0::2]), np.array(poly[1::2])
            x0, y0 = float(xs.min()), float(ys.min())
            w, h = float(xs.max() - x0), float(ys.max() - y0)
            area = float(
                cv2.contourArea(np.stack([xs, ys], 1).astype(np.float32)))
            splits[split]['annotations'].append(
                dict(
                    id=ann_id,
                    image_id=image_id,
                    category_id=cat_id[name],
                    segmentation=[poly],
                    area=round(area, 2),
                    bbox=[round(v, 2) for v in (x0, y0, w, h)],
                    iscrowd=0))
            ann_id += 1
        keys = LV_INDICATORS if kind == 'LV' else AV_INDICATORS
        row = dict(
            image=file_name,
            exam=stem.split('_')[0],
            split=split,
            type=kind,
            cm_per_px=f'{r["cm_per_px"]:.6f}',
            heart_rate_bpm=f'{r["heart_rate_bpm"]:.3f}',
            s_per_px=f'{r["s_per_px"]:.7f}',
            n_cycles=len(r['cycles']),
            abnormal=int(r['abnormal']))
        st = r['style']
        row.update(
            panel_top=st.panel[0],
            panel_bottom=st.panel[1],
            panel_left=st.panel[2],
            panel_right=st.panel[3],
            depth_cm=f'{st.depth_cm:.1f}',
            scale_style=st.scale if st.burned_scale else 'none',
            jpeg_quality=st.jpeg_quality)
        for key in LV_INDICATORS + AV_INDICATORS:
            vals = [c[key] for c in r['cycles'] if key in c]
            row[key] = f'{np.mean(vals):.4f}' if (key in keys and vals) else ''
        truth_rows.append(row)
        for c in r['cycles']:
            crow = dict(
                image=file_name,
                type=kind,
                cycle=c['cycle'],
                ed_col=f'{c["ed_col"]:.2f}',
                es_col=f'{c["es_col"]:.2f}')
            for key in keys:
                crow[key] = f'{c[key]:.4f}'
            cycle_rows.append(crow)
    paths = {}
    for split, coco in splits.items():
        path = osp.join(out_dir, f'Allmode_{split}.json')
        atomic_write_text(path, json.dumps(coco))
        paths[split] = path
    fields = [
        'image', 'exam', 'split', 'type', 'cm_per_px', 'heart_rate_bpm',
        's_per_px', 'n_cycles', 'abnormal', *LV_INDICATORS, *AV_INDICATORS,
        *TRUTH_STYLE_FIELDS
    ]
    paths['truth'] = _write_csv(
        osp.join(out_dir, TRUTH_FILE), fields, truth_rows)
    cfields = [
        'image', 'type', 'cycle', 'ed_col', 'es_col', *LV_INDICATORS,
        *AV_INDICATORS
    ]
    paths['cycles'] = _write_csv(
        osp.join(out_dir, CYCLES_FILE), cfields, cycle_rows)
    return paths


def _write_dicom(path: str, r: Dict, i: int, quality: int) -> None:
    """One capture as US DICOM with its M-mode region (Region Spatial
    Format 2; Y: cm, X: seconds) and the true heart rate as its Heart Rate
    (0018,1088), rounded to whole beats per minute (IS)."""
    from mmecho.datasets.io.dicom import UltrasoundRegion, write_us_dicom
    top, bottom, left, right = r['style'].panel
    region = UltrasoundRegion(
        spatial_format=2,
        data_type=1,
        x0=left,
        y0=top,
        x1=right - 1,
        y1=bottom - 1,
        units_x=4,
        units_y=3,
        delta_x=r['s_per_px'],
        delta_y=r['cm_per_px'],
        ref_x0=left,
        ref_y0=top,
        ref_value_x=0.0,
        ref_value_y=0.0)
    write_us_dicom(
        path,
        r['image'],
        regions=[region],
        compress='jpeg' if i % 4 >= 2 else None,
        quality=quality,
        heart_rate_bpm=r['heart_rate_bpm'])


def _write_csv(path, fields, rows):
    with atomic_write(path, 'w') as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval='')
        writer.writeheader()
        writer.writerows(rows)
    return path
