# Copyright (c) mmecho contributors. All rights reserved.
"""Inference speed of instance models, batch 1, warm-up excluded.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...]
        [--checkpoint CKPT] [--shape 544 544] [--image IMG]
        [--warmup 3] [--iters 20] [--threads N] [--fp16]

For every config: mean latency and FPS of (a) the network alone
(backbone + neck + heads, no post-processing) and (b) the whole predict()
including decoding, fast NMS and mask pasting at the original image size
(the image's size: 1024x768 for MEIS). The first config is the reference:
ratios against it are printed, so ``benchmark.py A B`` compares A and B in
the same run. ``--breakdown`` times each backbone stage, the neck, the
heads and post-processing separately.
"""
import argparse
import time

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData  # noqa: F401

from mmecho.apis import forward_network
from mmecho.registry import MODELS
from mmecho.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--checkpoint',
        default=None,
        help='weights for the first config (optional)')
    parser.add_argument('--shape', type=int, nargs=2, default=[544, 544])
    parser.add_argument(
        '--ori-shape',
        type=int,
        nargs=2,
        default=[768, 1024],
        help='original image (h, w) that masks are pasted '
        'to in predict()')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--fp16', action='store_true', help='autocast to float16 (CUDA only)')
    parser.add_argument('--breakdown', action='store_true')
    parser.add_argument(
        '--fuse-conv-bn',
        action='store_true',
        help='fold BatchNorm into the preceding convs '
        '(mmcv.cnn.fuse_conv_bn), for every model')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='NHWC memory format, for every model')
    return parser.parse_args()


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed(fn, warmup, iters, device):
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return float(np.mean(times)), float(np.std(times))


def build(config, checkpoint, device, fuse=False, channels_last=False):
    cfg = load_config(config, None)
    model = MODELS.build(cfg.model)
    if checkpoint:
        from mmecho.engine.checkpoint import load_model_weights
        load_model_weights(model, checkpoint)
    model = model.to(device).eval()
    if fuse:
        from mmcv.cnn import fuse_conv_bn
        model = fuse_conv_bn(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def make_sample(shape, ori_shape):
    h, w = shape
    oh, ow = ori_shape
    scale = min(h / oh, w / ow)
    sample = DetDataSample()
    sample.set_metainfo(
        dict(
            img_shape=(round(oh * scale), round(ow * scale)),
            ori_shape=(oh, ow),
            pad_shape=(h, w),
            batch_input_shape=(h, w),
            scale_factor=(scale, scale)))
    return sample


def bench(model, args, device):
    h, w = args.shape
    x = torch.randn(1, 3, h, w, device=device)
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    sample = make_sample(args.shape, args.ori_shape)
    ctx = (
        torch.autocast('cuda', dtype=torch.float16)
        if args.fp16 else torch.autocast('cpu', enabled=False))

    def net():
        with torch.no_grad(), ctx:
            forward_network(model, x)

    def full():
        with torch.no_grad(), ctx:
            model.predict(x, [sample], rescale=True)

    out = dict(
        net=timed(net, args.warmup, args.iters, device),
        full=timed(full, args.warmup, args.iters, device))
    if args.breakdown:
        out['parts'] = breakdown(model, x, sample, args, device)
    return out


def breakdown(model, x, sample, args, device):
    parts = {}
    with torch.no_grad():
        backbone = model.backbone
        if hasattr(backbone, 'stages'):  # UPANetV2
            y = backbone.stem(x)
            parts['backbone.stem'] = timed(lambda: backbone.stem(x), 1,
                                           args.iters, device)[0]
            for i, stage in enumerate(backbone.stages):
                inp = y
                parts[f'backbone.stage{i + 1}'] = timed(
                    lambda: stage(inp), 1, args.iters, device)[0]
                if i >= 1:
                    trans = stage[0]
                    parts[f'  stage{i + 1} panel attention'] = timed(
                        lambda: trans(inp), 1, args.iters, device)[0]
                y = stage(inp)
        else:
            parts['backbone'] = timed(lambda: backbone(x), 1, args.iters,
                                      device)[0]
        feats = backbone(x)
        parts['neck'] = timed(lambda: model.neck(feats), 1, args.iters,
                              device)[0]
        neck = model.neck(feats)
        parts['bbox_head'] = timed(lambda: model.bbox_head(neck), 1,
                                   args.iters, device)[0]
        protonet = getattr(getattr(model, 'mask_head', None), 'protonet', None)
        if protonet is not None:
            parts['mask_head (protonet)'] = timed(lambda: protonet(neck[0]), 1,
                                                  args.iters, device)[0]
    return parts


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fp16 and not args.device.startswith('cuda'):
        raise SystemExit('--fp16 needs --device cuda')
    register_all_modules()
    h, w = args.shape
    print(f'device: {args.device}, threads: {torch.get_num_threads()}, '
          f'input 1x3x{h}x{w}, batch 1, {args.warmup} warm-up + '
          f'{args.iters} timed runs{", fp16" if args.fp16 else ""}'
          f'{", conv+BN fused" if args.fuse_conv_bn else ""}'
          f'{", channels_last" if args.channels_last else ""}')
    results = []
    for i, config in enumerate(args.configs):
        model = build(config, args.checkpoint if i == 0 else None, args.device,
                      args.fuse_conv_bn, args.channels_last)
        r = bench(model, args, args.device)
        results.append(r)
        ref = results[0]
        print(f'\n{config}')
        for key, label in (('net', 'network only'), ('full',
                                                     'with post-processing')):
            mean, std = r[key]
            ratio = mean / ref[key][0]
            print(f'  {label:22s} {mean * 1e3:8.1f} ms +- {std * 1e3:5.1f}'
                  f'  {1 / mean:7.2f} FPS  x{ratio:.2f} vs first')
        for name, t in r.get('parts', {}).items():
            print(f'    {name:32s} {t * 1e3:8.1f} ms')
        if 'parts' in r:
            post = r['full'][0] - r['net'][0]
            print(f'    {"post-processing (full - network)":32s} '
                  f'{post * 1e3:8.1f} ms')
        del model


if __name__ == '__main__':
    main()
