# Copyright (c) mmecho contributors. All rights reserved.
"""Time and memory of mask-aware IoU against box IoU.

    python tools/analysis_tools/benchmark_maiou.py [--objects 20]
        [--size 544] [--iters 50] [--device cpu]

G random objects (an elliptical band inside each random box) against all
anchors of a SIZE x SIZE image (RAMEM: one square anchor per location on
strides 8..128, 6175 anchors at 544). maIoU time includes building the
integral images, as during training (once per image and assignment).
Memory is the total bytes allocated by the call, from torch's profiler
(CUDA: peak allocated).
"""
import argparse
import time

import numpy as np
import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.structures.bbox import bbox_overlaps
from torch.profiler import ProfilerActivity, profile

from mmecho.models.task_modules import mask_aware_iou


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--objects', type=int, default=20)
    parser.add_argument('--size', type=int, default=544)
    parser.add_argument('--iters', type=int, default=50)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def make_inputs(n, size, device, seed=0):
    rng = np.random.default_rng(seed)
    gen = AnchorGenerator(
        strides=[8, 16, 32, 64, 128],
        ratios=[1.0],
        scales=[1.0],
        base_sizes=[32, 64, 128, 256, 512],
        centers=[(s / 2, s / 2) for s in [8, 16, 32, 64, 128]])
    sizes = [(-(-size // s), -(-size // s)) for s in (8, 16, 32, 64, 128)]
    anchors = torch.cat(gen.grid_priors(sizes, device=device))
    yy, xx = np.mgrid[:size, :size]
    boxes, masks = [], []
    for _ in range(n):
        w, h = rng.integers(20, size // 2, 2)
        x1, y1 = rng.integers(0, size - w), rng.integers(0, size - h)
        cx, cy = x1 + w / 2, y1 + h / 2
        m = ((xx - cx) / (w / 2))**2 + ((yy - cy) / (h / 2))**2 <= 1
        boxes.append([x1, y1, x1 + w, y1 + h])
        masks.append(m)
    gt = torch.tensor(boxes, dtype=torch.float32, device=device)
    masks = torch.from_numpy(np.stack(masks)).to(device)
    return anchors, gt, masks


def timed(fn, iters, device):
    fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / iters


def memory(fn, device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return sum(max(e.self_cpu_memory_usage, 0) for e in prof.key_averages())


def main():
    args = parse_args()
    anchors, gt, masks = make_inputs(args.objects, args.size, args.device)
    print(f'{args.objects} objects x {len(anchors)} anchors, masks '
          f'{args.size}x{args.size}, device {args.device}, '
          f'{torch.get_num_threads()} threads')
    box = lambda: bbox_overlaps(anchors, gt)  # noqa: E731
    ma = lambda: mask_aware_iou(anchors, gt, masks)  # noqa: E731
    t_box, t_ma = timed(box, args.iters,
                        args.device), timed(ma, args.iters, args.device)
    m_box, m_ma = memory(box, args.device), memory(ma, args.device)
    print(f'box IoU : {t_box * 1e3:8.3f} ms  {m_box / 2**20:8.2f} MiB')
    print(f'maIoU   : {t_ma * 1e3:8.3f} ms  {m_ma / 2**20:8.2f} MiB')
    print(f'ratio maIoU / box IoU: time x{t_ma / t_box:.1f}, '
          f'memory x{m_ma / max(m_box, 1):.1f}')


if __name__ == '__main__':
    main()
