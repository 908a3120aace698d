# Copyright (c) mmecho contributors. All rights reserved.
"""Inference time of mmecho networks in PyTorch and in onnxruntime (CPU).

    python tools/analysis_tools/benchmark_backends.py [CONFIG ...]
        [--iters 20] [--warmup 2] [--threads N] [--shape H W] [--static]
        [--seed 0]

For each config (default: the M-mode demo instance model
``configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py``, the CAMUS
U-Net-ResNet34 ``configs/camus/unet/unet_r34_camus.py`` and the thesis
U-Net ``configs/camus_thesis/unet/unet_camus-thesis.py``) the network is
built with random weights (``--seed``), exported to a temporary ONNX file
as ``tools/deployment/pytorch2onnx.py`` does (dynamic axes unless
``--static``), and both run the network alone on the same random input of
the model's default shape (:func:`mmecho.deployment.default_input_shape`:
instance models 1 x 3 x 544 x 544, segmentation the data preprocessor's
size; ``--shape H W`` for all): PyTorch in eval mode under ``no_grad``
(the export adapter: ``model(x, mode='tensor')`` for segmentors, backbone,
neck and heads for instance models), onnxruntime with the
``CPUExecutionProvider``. No data preprocessing and no post-processing.

``--threads`` sets both ``torch.set_num_threads`` and onnxruntime's
``intra_op_num_threads`` (default: ``torch.get_num_threads()``, which
follows ``OMP_NUM_THREADS``). After ``--warmup`` untimed calls of each, the
``--iters`` timed calls alternate (PyTorch, onnxruntime, PyTorch, ...) in
this one process, so that load from other processes falls on both. One line
per model, the median of each:

    MODEL  torch X ms  onnxruntime Y ms  ratio ort/torch Z

(``Z`` below 1: onnxruntime is faster). Before timing, the two outputs are
compared; a difference above 1e-3 of the outputs' scale is an error.
"""
import argparse
import logging
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

DEFAULT_CONFIGS = [
    'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py',
    'configs/camus/unet/unet_r34_camus.py',
    'configs/camus_thesis/unet/unet_camus-thesis.py',
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        'configs',
        nargs='*',
        metavar='CONFIG',
        help='model configs (default: the demo instance model and two '
        'CAMUS U-Nets)')
    p.add_argument(
        '--iters', type=int, default=20, help='timed calls per backend')
    p.add_argument(
        '--warmup', type=int, default=2, help='untimed calls per backend')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch and onnxruntime intra-op threads (default: '
        'torch.get_num_threads())')
    p.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input height and width for every model (default: per model)')
    p.add_argument(
        '--static',
        action='store_true',
        help='export with static shapes (default: dynamic, as '
        'pytorch2onnx.py)')
    p.add_argument('--seed', type=int, default=0, help='weights and input')
    args = p.parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        p.error('--iters must be >= 1 and --warmup >= 0')
    if args.threads is not None and args.threads < 1:
        p.error('--threads must be >= 1')
    return args


def _resolve(config: str) -> str:
    if osp.isfile(config):
        return config
    path = osp.join(ROOT, config)
    if osp.isfile(path):
        return path
    raise SystemExit(f'{config}: no such config')


def _session(path: str, threads: int):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def _flat(outputs):
    from mmecho.deployment.onnx_export import _flatten
    return [t.numpy() for t in _flatten(outputs)]


def benchmark(config: str, args, threads: int) -> dict:
    """Time one model; returns name, torch_ms, ort_ms, ratio, max_diff."""
    from mmengine.config import Config

    from mmecho.deployment import (default_input_shape, export_onnx,
                                   make_adapter)
    from mmecho.registry import MODELS
    cfg = Config.fromfile(_resolve(config))
    torch.manual_seed(args.seed)
    with warnings.catch_warnings():  # mmseg's build_loss deprecation
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
        if hasattr(model, 'init_weights'):
            model.init_weights()
    adapter = make_adapter(model)
    shape = default_input_shape(cfg, model, args.shape)
    generator = torch.Generator().manual_seed(args.seed)
    if adapter.kind == 'registration':  # frames in [0, 1]
        x = torch.rand(shape, generator=generator)
    else:  # normalised images
        x = torch.randn(shape, generator=generator)
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'model.onnx')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            export_onnx(adapter, x, path, dynamic=not args.static)
        session = _session(path, threads)
    name = session.get_inputs()[0].name
    feed_x = x.numpy()

    def run_torch():
        with torch.no_grad():
            return adapter(x)

    def run_ort():
        return session.run(None, {name: feed_x})

    ref, got = _flat(run_torch()), run_ort()
    diff = max(
        (float(np.abs(a - b).max()) for a, b in zip(got, ref) if a.size),
        default=0.0)
    scale = max((float(np.abs(r).max()) for r in ref if r.size), default=0.)
    if len(ref) != len(got) or not diff <= 1e-5 + 1e-3 * scale:
        raise RuntimeError(f'{config}: onnxruntime differs from PyTorch by '
                           f'{diff:.3g} (outputs up to {scale:.3g})')
    for _ in range(args.warmup):
        run_torch()
        run_ort()
    times = dict(torch=[], ort=[])
    for _ in range(args.iters):  # interleaved: A, B, A, B, ...
        for key, fn in (('torch', run_torch), ('ort', run_ort)):
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    torch_ms = 1e3 * statistics.median(times['torch'])
    ort_ms = 1e3 * statistics.median(times['ort'])
    return dict(
        name=osp.splitext(osp.basename(config))[0],
        shape=tuple(shape),
        torch_ms=torch_ms,
        ort_ms=ort_ms,
        ratio=ort_ms / torch_ms,
        max_diff=diff)


def format_line(r: dict) -> str:
    return (f'{r["name"]}  torch {r["torch_ms"]:.1f} ms  onnxruntime '
            f'{r["ort_ms"]:.1f} ms  ratio ort/torch {r["ratio"]:.2f}')


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmecho.deployment.extras import require_deploy_extras
    require_deploy_extras()
    from mmengine.logging import MMLogger

    from mmecho.utils import register_all_modules
    register_all_modules()
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    configs = args.configs or DEFAULT_CONFIGS
    print(f'# {threads} thread(s) each, median of {args.iters} interleaved '
          f'calls after {args.warmup} warm-up call(s)')
    for config in configs:
        r = benchmark(config, args, threads)
        print(format_line(r), flush=True)
        print(
            f'#   input {"x".join(map(str, r["shape"]))}, max abs diff '
            f'{r["max_diff"]:.2g}',
            file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
