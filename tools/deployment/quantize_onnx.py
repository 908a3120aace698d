# Copyright (c) mmecho contributors. All rights reserved.
"""int8 static quantisation of an exported network (onnxruntime's tools).

    python tools/deployment/quantize_onnx.py MODEL.onnx --calib-dir SOURCE
        --out MODEL.int8.onnx [--config CONFIG] [--num 32]
        [--activation-type uint8] [--weight-type int8] [--no-per-channel]
        [--reduce-range] [--method minmax] [--no-preprocess] [--verify]

``MODEL.onnx`` is a file of ``tools/deployment/pytorch2onnx.py``. The
activation ranges are calibrated on ``--num`` inputs made from the images of
``SOURCE``, prepared as inference prepares them
(:mod:`mmecho.deployment.quantization`):

* a folder of image files (``.png``, ``.jpg``...) or medical images
  (``.nii.gz``, ``.mhd``; label files ``*_gt*`` are skipped), e.g. a MEIS
  root's ``raw_image/`` or a CAMUS root (use the training patients, not the
  ones you evaluate on);
* ``phantom``: a small phantom generated in a temporary folder (MEIS for an
  instance network, CAMUS otherwise; ``phantom:meis`` / ``phantom:camus``
  to choose).

Segmentation and instance networks need ``--config CONFIG`` (the file holds
the network only; normalisation and resize are the config's); registration
networks take frames in [0, 1] at the file's size and need none.

Defaults: QDQ format, uint8 activations, int8 weights with one scale per
output channel, MinMax calibration, onnxruntime's ``quant_pre_process``
first: onnxruntime's choice for x86-64 CPUs with VNNI; ``--reduce-range``
for CPUs without it. The int8 file is written atomically and keeps the
fp32 file's metadata (so ``--backend onnxruntime`` loaders accept it), plus
``mmecho_quantization``. With ``--verify`` both files run on the
calibration inputs and the tool prints ``max abs diff: X (outputs up to
Y)``.
"""
import argparse
import os.path as osp
import sys
import tempfile

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('model', help='fp32 .onnx file (pytorch2onnx.py)')
    p.add_argument(
        '--calib-dir',
        required=True,
        metavar='DIR_OR_PHANTOM',
        help='folder of calibration images, or "phantom", "phantom:meis", '
        '"phantom:camus"')
    p.add_argument('--out', required=True, help='int8 .onnx file')
    p.add_argument(
        '--config',
        help='the model\'s config (segmentation and instance networks)')
    p.add_argument(
        '--num', type=int, default=32, help='calibration inputs (32)')
    p.add_argument(
        '--activation-type', choices=('uint8', 'int8'), default='uint8')
    p.add_argument('--weight-type', choices=('int8', 'uint8'), default='int8')
    p.add_argument(
        '--no-per-channel',
        action='store_true',
        help='one scale per weight tensor (default: per output channel)')
    p.add_argument(
        '--reduce-range',
        action='store_true',
        help='7-bit weights (x86 CPUs without VNNI)')
    p.add_argument(
        '--method',
        choices=('minmax', 'entropy', 'percentile'),
        default='minmax',
        help='calibration method (minmax)')
    p.add_argument(
        '--no-preprocess',
        action='store_true',
        help='skip onnxruntime\'s quant_pre_process')
    p.add_argument(
        '--verify',
        action='store_true',
        help='compare int8 and fp32 outputs on the calibration inputs')
    args = p.parse_args(argv)
    if not args.out.endswith('.onnx'):
        p.error('--out must be a .onnx file')
    if osp.abspath(args.out) == osp.abspath(args.model):
        p.error('--out must not overwrite the fp32 file')
    if args.num < 1:
        p.error('--num must be >= 1')
    return args


def make_phantom(which: str, kind: str, root: str) -> str:
    """Generate a small phantom for ``kind`` under ``root``; returns the
    folder of its images."""
    from mmecho.phantoms import make_phantom as make
    name = which.partition(':')[2] or ('meis'
                                       if kind == 'instance' else 'camus')
    if name == 'meis':
        make('meis', root, num=16, seed=0)
        return osp.join(root, 'raw_image')
    if name == 'camus':
        make('camus', root, num=4, seed=0)
        return root
    raise SystemExit(f'error: unknown phantom {name!r} (meis or camus)')


def _outputs(path, arrays):
    from mmecho.deployment.onnxruntime_backend import _session
    session = _session(path)
    name = session.get_inputs()[0].name
    return [session.run(None, {name: a}) for a in arrays]


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmecho.deployment.extras import require_deploy_extras
    require_deploy_extras()
    from mmecho.deployment import onnx_metadata
    from mmecho.deployment.quantization import (calibration_inputs,
                                                quantize_onnx)
    from mmecho.utils import register_all_modules
    if not osp.isfile(args.model):
        raise SystemExit(f'error: {args.model}: no such ONNX file')
    kind = onnx_metadata(args.model).get('mmecho_kind')
    if kind in ('segmentation', 'instance') and not args.config:
        raise SystemExit(f'error: {args.model} holds a {kind} network: give '
                         '--config CONFIG (its normalisation and resize)')
    register_all_modules()
    with tempfile.TemporaryDirectory() as tmp:
        source = args.calib_dir
        if source == 'phantom' or source.startswith('phantom:'):
            source = make_phantom(source, kind, tmp)
        elif not osp.exists(source):
            raise SystemExit(f'error: {source}: no such folder')
        calib = calibration_inputs(args.model, source, args.config, args.num)
    shapes = sorted({'x'.join(map(str, a.shape)) for a in calib})
    print(f'calibrating on {len(calib)} inputs ({", ".join(shapes)})')
    report = quantize_onnx(
        args.model,
        args.out,
        calib,
        per_channel=not args.no_per_channel,
        activation_type=args.activation_type,
        weight_type=args.weight_type,
        reduce_range=args.reduce_range,
        calibrate_method=args.method,
        preprocess=not args.no_preprocess)
    ops = ', '.join(f'{k} {v}' for k, v in sorted(report['ops'].items()))
    print(f'wrote {args.out} ({report["settings"]}; {ops}) in '
          f'{report["seconds"]:.1f} s')
    if args.verify:
        ref, got = _outputs(args.model, calib), _outputs(args.out, calib)
        diff = max(
            float(np.abs(a - b).max()) for r, g in zip(ref, got)
            for a, b in zip(r, g) if a.size)
        scale = max(float(np.abs(a).max()) for r in ref for a in r if a.size)
        print(f'max abs diff: {diff:.3g} (outputs up to {scale:.3g})')
    return 0


if __name__ == '__main__':
    from mmecho.engine.checkpoint import run_tool
    sys.exit(run_tool(main))
