# Copyright (c) mmecho contributors. All rights reserved.
"""Export a model's network to ONNX and check it against onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG [CHECKPOINT] --out FILE.onnx
        [--verify] [--tolerance 1e-3] [--shape H W] [--static] [--opset 17]
        [--cfg-options k=v ...] [--trust-checkpoint]
        [--allow-partial-checkpoint]

Only the network is exported (see :mod:`mmecho.deployment.onnx_export`):
segmentors give their logits, instance models their raw head outputs (box
decoding, NMS and masks stay in Python), registrators the displacement of a
``(fixed, moving)`` pair stacked as ``(B, 2, H, W)``. The input is what the
data preprocessor would produce (normalised; registration frames in
[0, 1]). Default input shapes: segmentation ``1 x C x 256 x 256`` (the
config's ``data_preprocessor`` size and channels); 2D+time models ``1 x 1 x
T x H x W`` from the dataset; instance ``1 x 3 x 544 x 544``; registration
``1 x 2 x H x W`` from the dataset. Batch and spatial axes are dynamic
unless ``--static`` is given or the network cannot have them (a warning
says why). The checkpoint is loaded without trusting it and refused when
its tensors do not fit the model; without one the weights are random.

With ``--verify`` the file and PyTorch run on the same random input and the
tool prints ``max abs diff: X``, exiting with status 1 when X exceeds
``--tolerance``. The file is written atomically.
"""
import argparse
import sys

import torch
from mmengine.config import Config, DictAction

from mmecho.engine import (add_checkpoint_args, apply_checkpoint_args,
                           load_model_weights, run_tool)
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export a mmecho network to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint', nargs='?', help='checkpoint (default: random weights)')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime with PyTorch on a random input')
    parser.add_argument(
        '--tolerance',
        type=float,
        default=1e-3,
        help='largest accepted max abs diff with --verify (default 1e-3)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input height and width (default: per model kind)')
    parser.add_argument(
        '--static',
        action='store_true',
        help='static input shape (default: dynamic batch/height/width)')
    parser.add_argument(
        '--opset', type=int, default=17, help='ONNX opset (default 17)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    add_checkpoint_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmecho.deployment.extras import require_deploy_extras
    require_deploy_extras()
    from mmecho.deployment import (default_input_shape, export_onnx,
                                   make_adapter, onnx_metadata, verify_onnx)
    if not args.out.endswith('.onnx'):
        raise SystemExit('error: --out must be a .onnx file')
    allow_partial = apply_checkpoint_args(args)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_model_weights(model, args.checkpoint, allow_partial)
    else:
        print('no checkpoint given: exporting randomly initialised weights')
    adapter = make_adapter(model)
    shape = default_input_shape(cfg, model, args.shape)
    generator = torch.Generator().manual_seed(0)
    if adapter.kind == 'registration':  # frames in [0, 1]
        example = torch.rand(shape, generator=generator)
    else:  # normalised images
        example = torch.randn(shape, generator=generator)

    export_onnx(
        adapter, example, args.out, dynamic=not args.static, opset=args.opset)
    meta = onnx_metadata(args.out)
    axes = [
        a.split(':')[1] for a in meta['mmecho_dynamic_axes'].split(',') if a
    ]
    print(f'exported {adapter.kind} network of {type(model).__name__} to '
          f'{args.out} (input {"x".join(map(str, shape))}, dynamic axes: '
          f'{", ".join(axes) or "none"})')
    if meta.get('mmecho_static_reason'):
        print(f'fewer dynamic axes than asked: {meta["mmecho_static_reason"]}')
    if args.verify:
        diff = verify_onnx(args.out, adapter, example)
        print(f'max abs diff: {diff:.3g}')
        if not diff <= args.tolerance:
            print(
                f'error: max abs diff {diff:.3g} exceeds the tolerance '
                f'{args.tolerance:g}',
                file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
