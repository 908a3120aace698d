# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS phantom: apical two- and four-chamber half sequences (ED -> ES).

Geometry is built in mm in a frame attached to the LV long axis (``s`` from
the apex towards the base, ``r`` across): a bullet-shaped cavity, a
myocardium of 8-13 mm open at the mitral plane, the left atrium beyond it
and, in A4C, the right heart as unlabelled dark pools. The sequence is made
by a smooth backward deformation from each frame to ED (radial contraction
stronger at the endocardium than at the epicardium, so the wall thickens;
the base descends towards the apex; the atrium fills), so every frame has an
exact label map and speckle that moves with the tissue.

Written exactly as the CAMUS releases (see :func:`make_camus_phantom`), with
``Info_*.cfg`` whose EDV/ESV/EF are computed from the phantom's own ED/ES
masks by the biplane method of discs.
"""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from mmecho.measurement.simpson import biplane_ef
from mmecho.utils import atomic_write_text
from .ultrasound import complex_scatterers, form_bmode, sector_mask

VIEWS = ('2CH', '4CH')


def _patient_params(rng):
    ef_target = float(
        rng.choice([rng.uniform(0.55, 0.68),
                    rng.uniform(0.30, 0.50)],
                   p=[0.6, 0.4]))
    return dict(
        length=float(rng.uniform(72, 92)),  # apex-base, mm
        diameter=float(rng.uniform(40, 52)),  # at mid-cavity, mm
        wall=float(rng.uniform(8, 13)),
        apex_depth=float(rng.uniform(14, 24)),
        la_len=float(rng.uniform(34, 44)),
        la_width=float(rng.uniform(34, 44)),
        k_r=float(np.interp(ef_target, [0.3, 0.68], [0.12, 0.42])),
        k_s=float(rng.uniform(0.06, 0.13)),
        k_la=float(rng.uniform(0.10, 0.20)),
        nb_frame=int(rng.integers(12, 21)),
        quality=str(
            rng.choice(['Good', 'Medium', 'Poor'], p=[0.35, 0.46, 0.19])),
        age=int(rng.integers(25, 90)),
        sex=str(rng.choice(['M', 'F'])),
    )


def _half_width(s, length, diameter):
    """Cavity half-width (mm) at axial position ``s`` (0 apex, L base)."""
    z = np.clip(s / length, 0, 1)
    return diameter / 2 * np.sqrt(np.clip(z *
                                          (2 - z), 0, 1)) * (1 - 0.12 * z**2)


def _labels_in_axis_frame(s, r, p, view):
    """Label map (0 bg, 1 LV, 2 myo, 3 LA) and echogenicity at ED for
    points given in the axis frame (mm)."""
    L, D, wall = p['length'], p['diameter'], p['wall']
    hw = _half_width(s, L, D)
    lab = np.zeros(s.shape, np.uint8)
    ech = np.full(s.shape, 0.18, np.float32)
    cavity = (s >= 0) & (s <= L) & (np.abs(r) <= hw)
    # myocardium: within `wall` of the cavity, not beyond the mitral plane
    hw_out = _half_width(s + wall * 0.9, L + wall * 0.9, D + 2 * wall)
    myo = (s >= -wall) & (s <= L) & (np.abs(r) <= hw_out) & ~cavity
    # left atrium: ellipse beyond the base
    la_c = L + 2.0 + p['la_len'] / 2
    la = (((s - la_c) / (p['la_len'] / 2))**2 + (r /
                                                 (p['la_width'] / 2))**2) <= 1
    la &= s > L + 1.0
    if view == '4CH':
        # right ventricle and atrium: dark pools on the left of the image
        rv = (((s - L * 0.55) / (L * 0.45))**2 +
              ((r + D / 2 + wall + 16) / 15)**2) <= 1
        ra = (((s - la_c) / (p['la_len'] / 2.2))**2 +
              ((r + p['la_width'] / 2 + 22) / 17)**2) <= 1
        ech[rv | ra] = 0.001
    ech[myo] = 0.35
    ech[cavity] = 0.0008
    ech[la] = 0.0008
    lab[la] = 3
    lab[myo] = 2
    lab[cavity] = 1
    # bright pericardium behind the myocardium
    peri = (np.abs(r) <= hw_out + 3) & (np.abs(r) > hw_out) & (s > L * 0.2) & (
        s < L)
    ech[peri & (lab == 0)] = 0.9
    return lab, ech


def _backward_map(s, r, p, c):
    """Material (ED) coordinates of points ``(s, r)`` of a frame whose
    contraction level is ``c`` in [0, 1]."""
    L, D, wall = p['length'], p['diameter'], p['wall']
    R = np.maximum(_half_width(np.clip(s, L * 0.15, L), L, D), 1.0)
    z = np.abs(r) / R
    q = np.where(z <= 1, z, np.exp(-(z - 1) / 0.8))
    fade = np.where(s <= L, 1.0, np.exp(-(s - L) / 12.0))
    fade = fade * np.clip((s + wall) / (L * 0.25 + wall), 0, 1)
    r_x = r + p['k_r'] * c * R * q * np.sign(r) * fade
    # base descends: points between apex and base scale along the axis,
    # beyond the base they shift by the base motion
    shift = p['k_s'] * c * np.clip(s, 0, L)
    s_x = s + shift
    # left atrium fills: radial and axial expansion around its centre
    la_c = L + 2.0 + p['la_len'] / 2
    la_w = np.exp(-(((s - la_c) / (p['la_len'] * 0.7))**2 +
                    (r / (p['la_width'] * 0.7))**2))
    s_x = s_x - p['k_la'] * c * (s - la_c) * la_w
    r_x = r_x - p['k_la'] * c * r * la_w
    return s_x, r_x


def render_camus_view(rng, p, view, shape=(384, 256), spacing=(0.4, 0.6)):
    """Render one view's half sequence.

    Returns:
        dict: ``frames`` and ``labels`` ``(T, H, W)`` uint8, ``spacing``
        ``(row_mm, col_mm)``.
    """
    H, W = shape
    sy, sx = spacing
    tilt = np.radians(rng.uniform(-8, 8))
    axis = np.array([np.cos(tilt), np.sin(tilt)])  # (dy, dx)
    perp = np.array([-axis[1], axis[0]])
    apex_img = np.array([0.0, W * sx / 2])  # transducer, mm
    lv_apex = apex_img + axis * p['apex_depth']
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    py, px = (yy + 0.5) * sy, (xx + 0.5) * sx
    rel = np.stack([py - lv_apex[0], px - lv_apex[1]], -1)
    s = rel @ axis
    r = rel @ perp
    if view == '2CH':
        p = dict(p, diameter=p['diameter'] * rng.uniform(0.92, 1.05))
    fan = sector_mask((H, W), (W / 2, 0), 38, H, (sy, sx))
    depth = np.hypot(py, px - W * sx / 2)
    scat = complex_scatterers((H, W), rng)
    T = p['nb_frame']
    frames, labels = [], []
    for t in range(T):
        c = 0.5 * (1 - np.cos(np.pi * t / max(T - 1, 1)))
        s_x, r_x = _backward_map(s, r, p, c)
        lab, ech = _labels_in_axis_frame(s_x, r_x, p, view)
        # material point back in pixel coordinates, to sample speckle there
        mat = lv_apex[None,
                      None] + s_x[..., None] * axis + r_x[..., None] * perp
        my = (mat[..., 0] / sy - 0.5).astype(np.float32)
        mx = (mat[..., 1] / sx - 0.5).astype(np.float32)
        moving = cv2.remap(
            scat, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        img = form_bmode(
            moving,
            ech, (0.9, 1.6),
            depth_mm=depth,
            attenuation_db_per_mm=0.08,
            tgc_fraction=0.5,
            dynamic_range_db=40,
            rng=rng,
            noise_level=0.01)
        img[~fan] = 0
        lab[~fan] = 0
        frames.append(img)
        labels.append(lab)
    return dict(
        frames=np.stack(frames),
        labels=np.stack(labels),
        spacing=(float(sy), float(sx)))


def make_camus_phantom(out_dir: str,
                       num: int = 10,
                       seed: int = 0,
                       release: str = 'nifti',
                       shape=(384, 256),
                       spacing=(0.4, 0.6),
                       compress: bool = True) -> Dict:
    """Write a CAMUS-format phantom.

    ``release='nifti'`` (2023 release, ``compress=False`` gives ``.nii``)::

        out_dir/database_nifti/patient0001/
            patient0001_{2CH,4CH}_{ED,ES}[_gt].nii.gz
            patient0001_{2CH,4CH}_half_sequence[_gt].nii.gz
            Info_2CH.cfg, Info_4CH.cfg
        out_dir/database_split/subgroup_{training,validation,testing}.txt

    ``release='mhd'`` (2019 release)::

        out_dir/training/patient0001/
            patient0001_{2CH,4CH}_{ED,ES}[_gt].mhd/.raw
            patient0001_{2CH,4CH}_sequence.mhd/.raw (no labels, as released)
            Info_2CH.cfg, Info_4CH.cfg
        plus ``_half_sequence_gt`` files so the phantom is also a dense
        (TED-like) reference.

    Every half sequence runs from ED (first frame) to ES (last frame), and
    every frame is labelled. ``Info_*.cfg`` holds ED, ES (1-based),
    NbFrame, Sex, Age, ImageQuality, EF, LVedv, LVesv and FrameRate;
    EF/volumes are the biplane Simpson values of the phantom's ED/ES masks.
    """
    # the file formats live with the datasets; imported here so that
    # importing the renderers does not load mmseg / mmdet
    from mmecho.datasets.camus.info import write_camus_info
    from mmecho.datasets.io import save_medical_image
    if release not in ('nifti', 'mhd'):
        raise ValueError(f"release must be 'nifti' or 'mhd', got {release!r}")
    rng = np.random.default_rng(seed)
    if release == 'nifti':
        root = osp.join(out_dir, 'database_nifti')
        ext = '.nii.gz' if compress else '.nii'
        seq_name = 'half_sequence'
    else:
        root = osp.join(out_dir, 'training')
        ext = '.mhd'
        seq_name = 'sequence'
    patients = [f'patient{i + 1:04d}' for i in range(num)]
    records = []
    for pid in patients:
        pdir = osp.join(root, pid)
        os.makedirs(pdir, exist_ok=True)
        p = _patient_params(rng)
        views = {
            v: render_camus_view(rng, p, v, shape, spacing)
            for v in VIEWS
        }
        lv = {
            v: (views[v]['labels'][0] == 1, views[v]['labels'][-1] == 1)
            for v in VIEWS
        }
        clinical = biplane_ef(lv['4CH'][0], lv['4CH'][1], lv['2CH'][0],
                              lv['2CH'][1], views['4CH']['spacing'],
                              views['2CH']['spacing'])
        frame_rate = float(rng.uniform(30, 60))
        for v in VIEWS:
            data = views[v]
            T = len(data['frames'])
            sp2 = data['spacing']
            sp3 = (1.0, ) + sp2
            stem = osp.join(pdir, f'{pid}_{v}')
            for inst, idx in (('ED', 0), ('ES', T - 1)):
                save_medical_image(f'{stem}_{inst}{ext}', data['frames'][idx],
                                   sp2)
                save_medical_image(f'{stem}_{inst}_gt{ext}',
                                   data['labels'][idx], sp2)
            save_medical_image(f'{stem}_{seq_name}{ext}', data['frames'], sp3)
            save_medical_image(f'{stem}_half_sequence_gt{ext}', data['labels'],
                               sp3)
            write_camus_info(
                osp.join(pdir, f'Info_{v}.cfg'),
                dict(
                    ED=1,
                    ES=T,
                    NbFrame=T,
                    Sex=p['sex'],
                    Age=p['age'],
                    ImageQuality=p['quality'],
                    EF=round(clinical['EF'], 2),
                    LVedv=round(clinical['EDV'], 2),
                    LVesv=round(clinical['ESV'], 2),
                    FrameRate=round(frame_rate, 1)))
        records.append(dict(patient=pid, **clinical))
    # official-style split (shuffled ids), 80/10/10
    order = [patients[i] for i in rng.permutation(num)]
    n_val = max(1, num // 10) if num >= 3 else 0
    n_test = max(1, num // 10) if num >= 3 else 0
    split = {
        'testing': sorted(order[:n_test]),
        'validation': sorted(order[n_test:n_test + n_val]),
        'training': sorted(order[n_test + n_val:])
    }
    split_dir = osp.join(out_dir, 'database_split')
    for name, ids in split.items():
        atomic_write_text(
            osp.join(split_dir, f'subgroup_{name}.txt'),
            ''.join(i + '\n' for i in ids))
    return dict(root=root, patients=patients, split=split, clinical=records)
