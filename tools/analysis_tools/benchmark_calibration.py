# Copyright (c) mmecho contributors. All rights reserved.
"""How often the depth-scale reader calibrates a capture, and how well.

Renders ``--num`` M-mode screen captures with random vendor-like styles
(``mmecho.phantoms.mmode_screen``: panel size and place, depth,
tick grey/length/thickness, numerals every 1 or 2 cm in five fonts, half-cm
dots or dashes, an occluded tick, ECG, cursor line, text, JPEG quality
60-95; a quarter in the Philips layout: numerals touching their dash,
a top line, half-cm dots, and on half of those caliper crosses, coloured
masks and a box outline next to the scale), reads each with
``read_depth_scale_marks`` and prints:

- the fraction calibrated, and the fraction calibrated within 1 %;
- the median and the worst error (%) among the calibrated;
- the number wrong by more than 2 % (must be 0: uncertain scales are
  refused, never guessed);
- the refusals by reason, and the errors by scale style.

The seeds (default 20000+) are neither the test suite's phantoms' (0-99)
nor those the reader was developed on (0-299, 1000-1299).

    python tools/analysis_tools/benchmark_calibration.py --num 400 [--seed 20000]
        [--save-failures DIR]
"""
import argparse
import collections
import os
import os.path as osp
import time

import cv2
import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--num', type=int, default=400)
    p.add_argument('--seed', type=int, default=20000)
    p.add_argument(
        '--save-failures',
        metavar='DIR',
        help='write the refused and the wrong captures here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmecho.measurement import read_depth_scale_marks
    from mmecho.phantoms.meis_phantom import render_meis_image
    errors, refused, by_style, wrong = [], collections.Counter(), \
        collections.defaultdict(list), []
    refused_seeds = []
    t0 = time.time()
    for i in range(args.num):
        seed = args.seed + i
        rng = np.random.default_rng(seed)
        r = render_meis_image(rng, 'LV' if i % 2 == 0 else 'AV')
        st = r['style']
        ok, buf = cv2.imencode('.jpg', r['image'],
                               [cv2.IMWRITE_JPEG_QUALITY, st.jpeg_quality])
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        res = read_depth_scale_marks(image)
        style = ('philips ' if st.layout == 'philips' else '') + st.scale + (
            '+dots' if st.half_dots else '') + ('+overlays'
                                                if st.overlays else '')
        if not res.ok:
            refused[res.status.split(' (row')[0].split(' [')[0][:70]] += 1
            refused_seeds.append(seed)
            by_style[style].append(None)
            bad = True
        else:
            err = 100 * abs(res.cm_per_px / r['cm_per_px'] - 1)
            errors.append(err)
            by_style[style].append(err)
            bad = err > 2
            if bad:
                wrong.append((seed, err, style))
        if bad and args.save_failures:
            os.makedirs(args.save_failures, exist_ok=True)
            cv2.imwrite(
                osp.join(args.save_failures, f'seed{seed}.png'), image)
    n = args.num
    e = np.array(errors)
    print(f'captures: {n} (seeds {args.seed}..{args.seed + n - 1}), '
          f'{time.time() - t0:.1f} s')
    print(f'calibrated: {len(e)}/{n} = {100 * len(e) / n:.1f} %; '
          f'within 1 %: {int((e <= 1).sum())}/{n} = '
          f'{100 * (e <= 1).sum() / n:.1f} %')
    if len(e):
        print(f'error among calibrated: median {np.median(e):.3f} %, '
              f'worst {e.max():.3f} %')
    print(f'wrong by more than 2 %: {len(wrong)}')
    for seed, err, style in wrong:
        print(f'  seed {seed}: {err:.2f} % ({style})')
    if refused:
        print('refused:')
        for why, c in refused.most_common():
            print(f'  {c:4d}  {why}')
        print(f'  seeds: {" ".join(map(str, refused_seeds))}')
    print('by scale style (n, calibrated, median error %):')
    for style, v in sorted(by_style.items()):
        got = [x for x in v if x is not None]
        med = f'{np.median(got):.3f}' if got else '-'
        print(f'  {style:22s} {len(v):4d} {len(got):4d} {med}')
    return dict(
        n=n,
        calibrated=len(e),
        within_1=int((e <= 1).sum()),
        wrong=len(wrong),
        median=float(np.median(e)) if len(e) else float('nan'),
        worst=float(e.max()) if len(e) else float('nan'))


if __name__ == '__main__':
    main()
