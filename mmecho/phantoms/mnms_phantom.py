# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms phantom: short-axis cine MRI with LV, MYO, RV and vendor shift.

Each subject is a 4D volume ``(H, W, slices, frames)`` in NIfTI order (x
first on disk) with labels only at ED and ES, as in the challenge. The heart
is a stack of short-axis slices from base to apex: a round LV blood pool, a
myocardial ring and a crescent RV, contracting over the cycle. Vendors differ
in in-plane resolution, contrast (blood/myocardium/background intensities),
bias field and noise, so a model trained on A and B meets a domain shift on C
and D.

Layout::

    out_dir/Training/Labeled/<code>/<code>_sa.nii.gz, <code>_sa_gt.nii.gz
    out_dir/Validation/<code>/..., out_dir/Testing/<code>/...
    out_dir/mnms_dataset_info.csv   (External code, VendorName, Vendor,
                                     Centre, ED, ES; ED/ES 0-based)
"""
import csv
import os
import os.path as osp
from typing import Dict

import numpy as np
from scipy import ndimage

from mmecho.utils import atomic_write

INFO_FILE = 'mnms_dataset_info.csv'
VENDORS = {
    # name, centre, in-plane mm, (blood, myo, background), noise sd, bias
    'A':
    dict(
        name='Siemens',
        centre=1,
        spacing=1.25,
        contrast=(0.85, 0.30, 0.45),
        noise=0.03,
        bias=0.15),
    'B':
    dict(
        name='Philips',
        centre=2,
        spacing=1.40,
        contrast=(0.95, 0.25, 0.35),
        noise=0.05,
        bias=0.25),
    'C':
    dict(
        name='GE',
        centre=4,
        spacing=1.30,
        contrast=(0.70, 0.35, 0.55),
        noise=0.07,
        bias=0.30),
    'D':
    dict(
        name='Canon',
        centre=5,
        spacing=1.20,
        contrast=(0.80, 0.20, 0.25),
        noise=0.04,
        bias=0.35),
}
SPLITS = (('Training/Labeled', ('A', 'B')),
          ('Validation', ('A', 'B', 'C', 'D')), ('Testing', ('A', 'B', 'C',
                                                             'D')))


def render_mnms_subject(rng,
                        vendor: str,
                        size_mm: float = 200.0,
                        slices: int = 8,
                        frames: int = 12) -> Dict:
    """Render one subject. Returns ``image`` and ``label`` ``(T, Z, H, W)``
    (label zero except at ED/ES), ``spacing`` ``(dt, dz, dy, dx)``,
    ``ed``, ``es`` (0-based)."""
    v = VENDORS[vendor]
    sp = v['spacing']
    n = int(round(size_mm / sp))
    yy, xx = (np.mgrid[0:n, 0:n] + 0.5) * sp - size_mm / 2
    cy, cx = rng.uniform(-10, 10, 2)
    r_lv = rng.uniform(24, 30)
    wall = rng.uniform(8, 12)
    ef_r = rng.uniform(0.2, 0.35)
    ed, es = 0, int(rng.integers(frames // 3, frames // 2 + 1))
    blood, myo, bg = v['contrast']
    bias = 1 + v['bias'] * (xx / size_mm + 0.5 * yy / size_mm)
    image = np.zeros((frames, slices, n, n), np.float32)
    label = np.zeros((frames, slices, n, n), np.uint8)
    for t in range(frames):
        c = 0.5 * (1 - np.cos(2 * np.pi * (t - ed) / (2 * (es - ed))))
        c = c if t <= 2 * es else 0.0
        for z in range(slices):
            taper = 1 - 0.6 * (z / max(slices - 1, 1))**2  # apex smaller
            rl = r_lv * taper * (1 - ef_r * c)
            w = wall * (1 + 0.5 * c)
            d = np.hypot(yy - cy, xx - cx)
            lv = d <= rl
            ring = (d > rl) & (d <= rl + w)
            # RV: crescent on the left, between two offset circles
            rv_c = np.hypot(yy - cy, xx - (cx - rl - w - 6 * taper))
            rv = (rv_c <= (rl + 14) * 0.9 * taper) & ~(d <= rl + w + 2)
            rv &= xx < cx
            lab = np.zeros((n, n), np.uint8)
            lab[rv] = 3
            lab[ring] = 2
            lab[lv] = 1
            img = np.full((n, n), bg, np.float32)
            img[(d > rl + w + 8) & (d < rl + w + 30)] = bg * 1.2
            img[lab == 1] = blood
            img[lab == 3] = blood * 0.95
            img[lab == 2] = myo
            img = ndimage.gaussian_filter(img, 0.7)
            img = img * bias
            noise = rng.normal(0, v['noise'], (2, n, n))
            img = np.hypot(img + noise[0], noise[1])  # Rician
            image[t, z] = img
            if t in (ed, es):
                label[t, z] = lab
    image = np.clip(image / image.max() * 4000, 0, 65535).astype(np.int16)
    return dict(
        image=image, label=label, ed=ed, es=es, spacing=(1.0, 9.0, sp, sp))


def make_mnms_phantom(out_dir: str, num: int = 8, seed: int = 0) -> Dict:
    """Write an M&Ms-format phantom with ``num`` subjects per split
    (Training/Labeled holds vendors A and B only, as in the challenge)."""
    # imported here so that importing the renderers does not load mmseg
    from mmecho.datasets.io import save_medical_image
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for split, vendors in SPLITS:
        for i in range(num):
            vendor = vendors[i % len(vendors)]
            code = f'{chr(65 + k % 26)}{k // 26}{rng.integers(0, 10**4):04d}'
            code = f'P{k:03d}{vendor}{code[-3:]}'
            k += 1
            subject = render_mnms_subject(rng, vendor)
            sdir = osp.join(out_dir, split, code)
            os.makedirs(sdir, exist_ok=True)
            save_medical_image(
                osp.join(sdir, f'{code}_sa.nii.gz'), subject['image'],
                subject['spacing'])
            save_medical_image(
                osp.join(sdir, f'{code}_sa_gt.nii.gz'), subject['label'],
                subject['spacing'])
            rows.append({
                'External code': code,
                'VendorName': VENDORS[vendor]['name'],
                'Vendor': vendor,
                'Centre': VENDORS[vendor]['centre'],
                'ED': subject['ed'],
                'ES': subject['es'],
                'Split': split,
            })
    path = osp.join(out_dir, INFO_FILE)
    with atomic_write(path, 'w') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dict(info=path, subjects=[r['External code'] for r in rows])
