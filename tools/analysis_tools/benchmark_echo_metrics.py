# Copyright (c) mmecho contributors. All rights reserved.
"""Time mmecho's Dice/HD/MAD against MONAI (and medpy when installed) on the
same label maps, and report how far apart their values are.

    python tools/analysis_tools/benchmark_echo_metrics.py [--num 1000]

Label maps: ``--num`` pairs of ``--size`` x ``--size`` maps with three
structures (nested ellipses like cavity / myocardium / atrium); the
"prediction" is the reference with a random shift, scale and speckle, so
contours differ by a few pixels and some predictions have extra islands.
MONAI and medpy are not mmecho dependencies: install them to compare
(``pip install monai medpy``); a missing one is reported and skipped.
"""
import argparse
import time

import numpy as np

from mmecho.evaluation.functional import dice, hausdorff_and_mad


def make_maps(num, size, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    for _ in range(num):
        cy, cx = rng.uniform(0.35, 0.55, 2)
        a, b = rng.uniform(0.12, 0.2), rng.uniform(0.22, 0.32)

        def ellipses(cy, cx, a, b):
            lab = np.zeros((size, size), np.uint8)
            la = ((yy - cy - b - 0.08) / (0.6 * a))**2 + ((xx - cx) /
                                                          (0.8 * a))**2 <= 1
            epi = ((yy - cy) / (b + 0.04))**2 + ((xx - cx) / (a + 0.04))**2
            lab[la] = 3
            lab[epi <= 1] = 2
            lab[((yy - cy) / b)**2 + ((xx - cx) / a)**2 <= 1] = 1
            return lab

        ref = ellipses(cy, cx, a, b)
        pred = ellipses(cy + rng.normal(0, 0.01), cx + rng.normal(0, 0.01),
                        a * rng.uniform(0.93, 1.07),
                        b * rng.uniform(0.93, 1.07))
        noise = rng.random((size, size)) > 0.9995
        pred[noise] = rng.integers(1, 4, int(noise.sum()))
        yield pred, ref


def ours(pairs, spacing):
    out = []
    for pred, ref in pairs:
        for c in (1, 2, 3):
            p, r = pred == c, ref == c
            hd, mad = hausdorff_and_mad(p, r, spacing)
            out.append((dice(p, r), hd, mad))
    return np.array(out)


def monai(pairs, spacing):
    import torch
    from monai.metrics import (compute_average_surface_distance, compute_dice,
                               compute_hausdorff_distance)
    out = []
    for pred, ref in pairs:
        p = torch.from_numpy(np.stack([pred == c
                                       for c in (1, 2, 3)])[None]).float()
        r = torch.from_numpy(np.stack([ref == c
                                       for c in (1, 2, 3)])[None]).float()
        d = compute_dice(p, r, include_background=True)[0]
        hd = compute_hausdorff_distance(
            p, r, include_background=True, spacing=list(spacing))[0]
        a = compute_average_surface_distance(
            p, r, include_background=True, spacing=list(spacing))[0]
        b = compute_average_surface_distance(
            r, p, include_background=True, spacing=list(spacing))[0]
        out += list(zip(d.tolist(), hd.tolist(), (0.5 * (a + b)).tolist()))
    return np.array(out)


def medpy(pairs, spacing):
    # medpy's assd pools both distance sets; the CAMUS d_m that mmecho
    # reports averages the two directed means, so compare with asd both ways
    from medpy.metric.binary import asd, dc, hd
    out = []
    for pred, ref in pairs:
        for c in (1, 2, 3):
            p, r = pred == c, ref == c
            mad = 0.5 * (asd(p, r, spacing) + asd(r, p, spacing))
            out.append((dc(p, r), hd(p, r, spacing), mad))
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num', type=int, default=1000)
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--spacing', type=float, nargs=2, default=(0.3, 0.3))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--peer-num',
        type=int,
        default=50,
        help='maps given to MONAI/medpy (their per-map time is compared; '
        'MONAI takes about 1.5 s per 512x512 map on 2 CPU cores)')
    args = parser.parse_args()
    pairs = list(make_maps(args.num, args.size, args.seed))
    print(f'{args.num} label maps {args.size}x{args.size}, 3 structures, '
          f'spacing {tuple(args.spacing)} mm: Dice + HD + MAD per structure')
    results = {}
    for name, fn in (('mmecho', ours), ('monai', monai), ('medpy', medpy)):
        n = args.num if name == 'mmecho' else min(args.peer_num, args.num)
        try:
            t0 = time.perf_counter()
            vals = fn(pairs[:n], args.spacing)
            dt = time.perf_counter() - t0
        except ImportError as e:
            print(f'{name:7s} not installed ({e}); skipped')
            continue
        results[name] = (n, dt, vals)
    n0, t0, base = results['mmecho']
    ms0 = 1000 * t0 / n0
    print(f'{"impl":7s} {"maps":>5s} {"total s":>8s} {"ms/map":>8s} '
          f'{"x mmecho":>9s} {"max|dDice|":>11s} {"max|dHD| mm":>12s} '
          f'{"max|dMAD| mm":>13s}')
    for name, (n, dt, vals) in results.items():
        diff = np.abs(vals - base[:len(vals)]).max(0)
        ms = 1000 * dt / n
        print(f'{name:7s} {n:5d} {dt:8.2f} {ms:8.2f} {ms / ms0:9.1f} '
              f'{diff[0]:11.2e} {diff[1]:12.2e} {diff[2]:13.2e}')


if __name__ == '__main__':
    main()
