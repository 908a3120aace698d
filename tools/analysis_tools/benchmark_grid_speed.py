# Copyright (c) mmecho contributors. All rights reserved.
"""Training and inference throughput (images/s) of CAMUS-grid cells.

    python tools/analysis_tools/benchmark_grid_speed.py \
        --cells unet:r34 deeplabv3plus:effb3 [--device cpu] [--batch 8]

Synthetic 256x256 batches; a training step is forward + CE/Dice loss +
backward + Adam step; inference is the network forward in eval mode without
gradients (no data loading, no post-processing). Warm-up iterations are not
timed.
"""
import argparse
import time

import torch
from mmengine import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.apis.camus_grid import (ARCHITECTURES, ENCODERS, check_cell,
                                    leaf_config_path)
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cells', nargs='+', default=['unet:r34'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()
    register_all_modules()
    torch.manual_seed(0)
    dev = args.device
    print(f'device {dev}, batch {args.batch}, {args.size}x{args.size}, '
          f'{args.iters} timed iterations ({torch.get_num_threads()} threads)')
    print(f'{"architecture":14s} {"encoder":16s} {"params M":>9s} '
          f'{"train img/s":>12s} {"infer img/s":>12s}')
    for cell in args.cells:
        arch, enc = cell.split(':')
        check_cell(arch, enc)
        cfg = Config.fromfile(leaf_config_path(arch, enc))
        model = MODELS.build(cfg.model).to(dev)
        n_params = sum(p.numel() for p in model.parameters()) / 1e6
        x = torch.randn(args.batch, 3, args.size, args.size, device=dev)
        samples = []
        for _ in range(args.batch):
            ds = SegDataSample()
            ds.gt_sem_seg = PixelData(
                data=torch.randint(
                    0, 4, (1, args.size, args.size), device=dev))
            ds.set_metainfo(dict(img_shape=(args.size, ) * 2))
            samples.append(ds)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        model.train()
        for i in range(args.warmup + args.iters):
            if i == args.warmup:
                sync(dev)
                t0 = time.perf_counter()
            losses = model.loss(x, samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sync(dev)
        train_ips = args.batch * args.iters / (time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            for i in range(args.warmup + args.iters):
                if i == args.warmup:
                    sync(dev)
                    t0 = time.perf_counter()
                model(x, mode='tensor')
        sync(dev)
        infer_ips = args.batch * args.iters / (time.perf_counter() - t0)
        print(
            f'{ARCHITECTURES[arch]:14s} {ENCODERS[enc][0]:16s} '
            f'{n_params:9.2f} {train_ips:12.1f} {infer_ips:12.1f}',
            flush=True)
        del model, opt


if __name__ == '__main__':
    main()
