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
the same run. The models' timed runs are interleaved (A, B, A, B, ...), so
that a slower or busier moment of a shared machine falls on all of them;
the ratio is the median over rounds of each round's ratio. ``--breakdown``
times each backbone stage, the neck, the heads and post-processing
separately. ``--check-inference-path`` prints, for every model, the
largest difference between its network outputs at inference (no autograd:
the in-place, folded and strip-wise steps of UPANet's panels) and its
layer-by-layer path (autograd on) on the timed input.
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
    parser.add_argument(
        '--check-inference-path',
        action='store_true',
        help='print max |inference path - layer-by-layer path| of the '
        'network outputs of every model')
    return parser.parse_args()


def inference_path_difference(model, x):
    """(max abs difference, largest abs output) between the network
    outputs without autograd and with it (the layer-by-layer path)."""
    from mmecho.deployment.onnx_export import _flatten
    with torch.no_grad():
        fast = _flatten(forward_network(model, x))
    with torch.enable_grad():
        plain = [t.detach() for t in _flatten(forward_network(model, x))]
    diff = max(float((a - b).abs().max()) for a, b in zip(fast, plain))
    return diff, max(float(b.abs().max()) for b in plain)


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


def runners(model, args, device):
    """``{'net': fn, 'full': fn}``: one timed call each."""
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

    return dict(net=net, full=full), x, sample


def interleaved(fns, warmup, iters, device):
    """Time ``fns`` (one per model) in rounds A, B, A, B, ...; returns the
    per-model lists of seconds."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(iters):
        for i, fn in enumerate(fns):
            sync(device)
            t = time.perf_counter()
            fn()
            sync(device)
            times[i].append(time.perf_counter() - t)
    return times


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
    models, runs = [], []
    for i, config in enumerate(args.configs):
        model = build(config, args.checkpoint if i == 0 else None, args.device,
                      args.fuse_conv_bn, args.channels_last)
        models.append(model)
        runs.append(runners(model, args, args.device))
    times = {
        key: interleaved([r[0][key] for r in runs], args.warmup, args.iters,
                         args.device)
        for key in ('net', 'full')
    }
    for i, config in enumerate(args.configs):
        print(f'\n{config}')
        for key, label in (('net', 'network only'), ('full',
                                                     'with post-processing')):
            t = np.asarray(times[key][i])
            ratio = float(np.median(t / np.asarray(times[key][0])))
            mean, std = float(t.mean()), float(t.std())
            print(f'  {label:22s} {mean * 1e3:8.1f} ms +- {std * 1e3:5.1f}'
                  f'  {1 / mean:7.2f} FPS  x{ratio:.2f} vs first')
        if args.check_inference_path:
            diff, top = inference_path_difference(models[i], runs[i][1])
            print(f'  inference path vs layer-by-layer: max abs diff '
                  f'{diff:.2e} (largest output {top:.2f})')
        if args.breakdown:
            _, x, sample = runs[i]
            parts = breakdown(models[i], x, sample, args, args.device)
            for name, t in parts.items():
                print(f'    {name:32s} {t * 1e3:8.1f} ms')
            post = float(np.mean(times['full'][i]) - np.mean(times['net'][i]))
            print(f'    {"post-processing (full - network)":32s} '
                  f'{post * 1e3:8.1f} ms')


if __name__ == '__main__':
    main()
