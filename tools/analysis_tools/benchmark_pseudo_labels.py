# Copyright (c) mmecho contributors. All rights reserved.
"""Throughput of pseudo-label generation (frames per second).

    python tools/analysis_tools/benchmark_pseudo_labels.py \
        [--config configs/registration/bspline_dlir_camus.py] \
        [--checkpoint C] \
        [--frames 20] [--size 512 512] [--device cpu] [--repeats 3]

A CAMUS-phantom sequence of ``--frames`` frames at ``--size`` (default: 20
frames of 512 x 512, the issue's reference case) is propagated forward,
backward and bidirectionally with the registration model of ``--config``
(random weights unless ``--checkpoint``: speed does not depend on them).
Each mode runs batched (``--batch-size``, default 8: all fields of a
sequence in a few network calls, every frame warped in one grid_sample)
and, as the peer, with batch size 1 (one network call and one warp per
frame, as a frame-by-frame loop does); the table prints the median
seconds, frames/s and the batched / per-frame speed-up.
"""
import argparse
import statistics
import time

import numpy as np
import torch

from mmecho.registration import propagate_labels
from mmecho.registration.pseudo_labels import (load_registration_model,
                                               model_fields_fn)


def phantom_sequence(frames: int, size, seed: int = 0):
    from mmecho.phantoms.camus_phantom import (_patient_params,
                                               render_camus_view)
    rng = np.random.default_rng(seed)
    p = _patient_params(rng)
    p['nb_frame'] = frames
    view = render_camus_view(rng, p, '4CH', shape=tuple(size))
    return view['frames'], view['labels']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument(
        '--config', default='configs/registration/bspline_dlir_camus.py')
    ap.add_argument('--checkpoint')
    ap.add_argument('--frames', type=int, default=20)
    ap.add_argument('--size', type=int, nargs=2, default=(512, 512))
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args(argv)
    model, size = load_registration_model(args.config, args.checkpoint,
                                          args.device)
    fn = model_fields_fn(model)
    frames, labels = phantom_sequence(args.frames, args.size)
    sync = (
        torch.cuda.synchronize if args.device.startswith('cuda') else
        (lambda: None))
    print(f'sequence: {frames.shape[0]} frames of {frames.shape[1]} x '
          f'{frames.shape[2]}; model {type(model.network).__name__} at '
          f'{size}; device {args.device}; torch threads '
          f'{torch.get_num_threads()}')
    print('| mode | batched s | batched frames/s | per-frame s | '
          'per-frame frames/s | speed-up |')
    print('|---|---|---|---|---|---|')
    for mode in ('forward', 'backward', 'bidirectional'):
        res = {}
        for name, bs in (('batched', args.batch_size), ('per_frame', 1)):
            times = []
            for _ in range(args.repeats + 1):  # the first run warms up
                sync()
                t0 = time.perf_counter()
                propagate_labels(
                    fn,
                    frames,
                    labels[0],
                    labels[-1],
                    mode,
                    model.num_classes,
                    size=size,
                    batch_size=bs,
                    device=args.device)
                sync()
                times.append(time.perf_counter() - t0)
            res[name] = statistics.median(times[1:])
        n = frames.shape[0]
        print(f'| {mode} | {res["batched"]:.3f} | {n / res["batched"]:.1f} | '
              f'{res["per_frame"]:.3f} | {n / res["per_frame"]:.1f} | '
              f'{res["per_frame"] / res["batched"]:.2f}x |')
    from mmecho.registration import fuse_bidirectional
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        fuse_bidirectional(labels, labels[::-1].copy(), model.num_classes)
        times.append(time.perf_counter() - t0)
    fuse = statistics.median(times)
    print(
        f'\nof which the Eq. 1 fusion (signed distances of {model.num_classes}'
        f' classes x 2 directions, OpenCV, CPU): {fuse:.3f} s = '
        f'{frames.shape[0] / fuse:.1f} frames/s')


if __name__ == '__main__':
    main()
