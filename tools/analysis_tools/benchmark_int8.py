# Copyright (c) mmecho contributors. All rights reserved.
"""int8 (static, QDQ) vs fp32 onnxruntime on the phantoms: latency and
accuracy, side by side.

    python tools/analysis_tools/benchmark_int8.py [--threads 1] [--iters 10]
        [--warmup 2] [--calib-num 32] [--meis-root DIR] [--camus-root DIR]
        [--instance-config CFG] [--instance-checkpoint PTH|random]
        [--seg-config CFG] [--seg-checkpoint PTH|random]
        [--seg-frames 0 2 4 6 8 10] [--seed 0] [--skip-instance]
        [--skip-segmentation] [--keep DIR]

Two models, each exported to ONNX (fp32) and quantised with
:func:`mmecho.deployment.quantization.quantize_onnx` (uint8 activations,
per-channel int8 weights, MinMax calibration on ``--calib-num`` images of
the phantom's training split, never the images scored):

* the instance (AMEM) model, default the ``make demo`` config
  ``configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py`` with the
  ``make demo`` checkpoint (``work_dirs/demo/best_*.pth``, else
  ``iter_*.pth``) on the MEIS phantom (``data/meis_phantom``): COCO bbox and
  mask mAP of both files on the test split (``EchoCocoMetric``, as
  ``tools/test.py``), and the M-mode measurements (``MModeMeasurer`` with
  ``backend='onnxruntime'``) of the test images: the mean absolute
  difference, in mm, between the fp32 and int8 values of every indicator
  both measure, and how many rows change status;
* a segmentation model, default the thesis U-Net
  ``configs/camus_thesis/unet/unet_camus-thesis.py`` (LV cavity, binary)
  with the checkpoint of the thesis grid on the CAMUS phantom
  (``work_dirs/camus_thesis_phantom/thesis_unet_plain_none/best_*.pth``) on
  the CAMUS phantom (``data/camus_phantom``): the LV Dice of both against
  the ground truth, and of int8 against fp32, on frames 0, 2, ..., 10
  (``--seg-frames``) of both views of the validation and test patients
  (the thesis split files where the phantom has them, else the
  ``subgroup_*`` ones).

Without a checkpoint (none found, or ``random``) the weights are random and
the accuracy lines compare noise (the script says so): train them first
(``make demo``; ``tools/benchmark_grid.py`` for the U-Net).

Latency: the network alone on one preprocessed phantom image, fp32 and
int8 sessions timed alternately in this process (``--iters`` calls each
after ``--warmup``), median; ``--threads`` sets torch's and onnxruntime's
intra-op threads (default ``torch.get_num_threads()``). One line per
model:

    MODEL  INPUT  fp32 X ms  int8 Y ms  ratio int8/fp32 Z

then its accuracy lines.
"""
import argparse
import contextlib
import copy
import glob
import io
import json
import logging
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

INSTANCE_CONFIG = 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'
SEG_CONFIG = 'configs/camus_thesis/unet/unet_camus-thesis.py'
SEG_FRAMES = (0, 2, 4, 6, 8, 10)
INDICATORS = ('IVSd', 'LVIDd', 'LVPWd', 'IVSs', 'LVIDs', 'LVPWs', 'AoR', 'LA')


def _default_checkpoint(pattern_dir: str) -> str:
    found = sorted(glob.glob(osp.join(ROOT, pattern_dir, '*.pth')))
    best = [p for p in found if osp.basename(p).startswith('best_')]
    return (best or found or ['random'])[-1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument(
        '--calib-num', type=int, default=32, help='calibration images')
    p.add_argument('--meis-root', default=osp.join(ROOT, 'data/meis_phantom'))
    p.add_argument(
        '--camus-root', default=osp.join(ROOT, 'data/camus_phantom'))
    p.add_argument('--instance-config', default=INSTANCE_CONFIG)
    p.add_argument(
        '--instance-checkpoint',
        default=None,
        help='weights (default: the make-demo checkpoint; "random")')
    p.add_argument('--seg-config', default=SEG_CONFIG)
    p.add_argument(
        '--seg-checkpoint',
        default=None,
        help='weights (default: the thesis grid\'s phantom checkpoint; '
        '"random")')
    p.add_argument(
        '--seg-frames',
        type=int,
        nargs='+',
        default=list(SEG_FRAMES),
        help='half-sequence frames scored (0 2 4 6 8 10)')
    p.add_argument('--seed', type=int, default=0, help='random weights (0)')
    p.add_argument('--skip-instance', action='store_true')
    p.add_argument('--skip-segmentation', action='store_true')
    p.add_argument('--keep', metavar='DIR', help='keep the ONNX files in DIR')
    args = p.parse_args(argv)
    if args.iters < 1 or args.warmup < 0 or args.calib_num < 1:
        p.error('--iters and --calib-num must be >= 1, --warmup >= 0')
    if args.instance_checkpoint is None:
        args.instance_checkpoint = _default_checkpoint('work_dirs/demo')
    if args.seg_checkpoint is None:
        args.seg_checkpoint = _default_checkpoint(
            'work_dirs/camus_thesis_phantom/thesis_unet_plain_none')
    return args


def _resolve(config: str) -> str:
    return config if osp.isfile(config) else osp.join(ROOT, config)


def _session(path: str, threads: int):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def time_pair(fp32: str, int8: str, x: np.ndarray, args, threads: int) -> dict:
    """Median ms of each file on ``x``, timed alternately."""
    sessions = dict(fp32=_session(fp32, threads), int8=_session(int8, threads))
    name = sessions['fp32'].get_inputs()[0].name
    for _ in range(args.warmup):
        for s in sessions.values():
            s.run(None, {name: x})
    times = dict(fp32=[], int8=[])
    for _ in range(args.iters):  # interleaved: fp32, int8, fp32, ...
        for key, s in sessions.items():
            start = time.perf_counter()
            s.run(None, {name: x})
            times[key].append(time.perf_counter() - start)
    fp32_ms = 1e3 * statistics.median(times['fp32'])
    int8_ms = 1e3 * statistics.median(times['int8'])
    return dict(fp32_ms=fp32_ms, int8_ms=int8_ms, ratio=int8_ms / fp32_ms)


def _weights_note(ckpt: str) -> str:
    if ckpt == 'random':
        return ('random weights: the accuracy figures compare noise '
                '(train the model first)')
    if ckpt.startswith(ROOT):
        ckpt = osp.relpath(ckpt, ROOT)
    return f'weights {ckpt}'


def _phantom(name: str, root: str, **kwargs) -> str:
    from mmecho.phantoms import make_phantom
    make_phantom(name, root, **kwargs)
    return root


def _quantize(fp32: str, int8: str, calib) -> dict:
    from mmecho.deployment.quantization import quantize_onnx
    return quantize_onnx(fp32, int8, calib)


# --- instance ---------------------------------------------------------------


def coco_metrics(model, cfg) -> dict:
    """``EchoCocoMetric`` of ``model`` (an ``ONNXRuntimeDetector``) on the
    config's test split, as tools/test.py computes it."""
    from mmengine.dataset import pseudo_collate
    from mmengine.evaluator import Evaluator

    from mmecho.registry import DATASETS
    quiet = contextlib.redirect_stdout(io.StringIO())  # pycocotools' prints
    with quiet:
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        data = pseudo_collate([dataset[i]])
        with torch.no_grad():
            outputs = model.test_step(data)
        evaluator.process(outputs, data)
    with quiet:
        return evaluator.evaluate(len(dataset))


def measurement_rows(config, onnx_path: str, paths) -> list:
    from mmecho.apis import MModeMeasurer
    measurer = MModeMeasurer(
        config, backend='onnxruntime', onnx_model=onnx_path)
    return [measurer(p).as_row() for p in paths]


def compare_rows(rows_a, rows_b) -> dict:
    """Mean |a - b| in mm over the indicators both rows measure in cm."""
    diffs, status_changes, both_ok = [], 0, 0
    for a, b in zip(rows_a, rows_b):
        if a['status'] != b['status']:
            status_changes += 1
        if a['status'] != 'ok' or b['status'] != 'ok':
            continue
        both_ok += 1
        for k in INDICATORS:
            va, vb = a.get(k), b.get(k)
            if va in (None, '') or vb in (None, ''):
                continue
            scale = 10.0 if a['unit'] == 'cm' else 1.0  # cm -> mm
            diffs.append(abs(float(va) - float(vb)) * scale)
    return dict(
        mean_abs_mm=float(np.mean(diffs)) if diffs else float('nan'),
        max_abs_mm=float(np.max(diffs)) if diffs else float('nan'),
        values=len(diffs),
        both_ok=both_ok,
        status_changes=status_changes,
        unit=rows_a[0]['unit'] if rows_a else '')


def run_instance(args, threads: int, tmp: str) -> None:
    from mmengine.config import Config

    from mmecho.apis.instance_inference import init_instance_model
    from mmecho.deployment import export_onnx
    from mmecho.deployment.onnxruntime_backend import \
        init_onnxruntime_instance_model
    from mmecho.deployment.quantization import instance_calibration_inputs
    root = args.meis_root
    if not osp.isfile(osp.join(root, 'Allmode_test.json')):
        root = _phantom('meis', osp.join(tmp, 'meis'), num=40, seed=0)
    cfg = Config.fromfile(_resolve(args.instance_config))
    cfg.test_dataloader.dataset.data_root = root
    cfg.test_evaluator.ann_file = osp.join(root, 'Allmode_test.json')
    with open(osp.join(root, 'Allmode_train.json')) as f:
        train = [i['file_name'] for i in json.load(f)['images']]
    with open(osp.join(root, 'Allmode_test.json')) as f:
        test = [i['file_name'] for i in json.load(f)['images']]
    raw = osp.join(root, 'raw_image')
    ckpt = args.instance_checkpoint
    torch.manual_seed(args.seed)
    # mmdet's inference_detector edits the pipeline of the cfg it is
    # given: every consumer gets a copy
    model = init_instance_model(
        copy.deepcopy(cfg), None if ckpt == 'random' else ckpt)
    fp32, int8 = osp.join(tmp,
                          'instance.onnx'), osp.join(tmp, 'instance.int8.onnx')
    # UPANet: trace at an odd multiple of 32 (onnx_export's docstring)
    x = torch.randn(1, 3, 160, 160, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        export_onnx(model, x, fp32)
    calib = instance_calibration_inputs(cfg, [osp.join(raw, n) for n in train],
                                        args.calib_num)
    report = _quantize(fp32, int8, calib)
    x = instance_calibration_inputs(cfg, [osp.join(raw, test[0])], 1)[0]
    t = time_pair(fp32, int8, x, args, threads)
    name = osp.splitext(osp.basename(args.instance_config))[0]
    print(
        f'{name}  {"x".join(map(str, x.shape))}  fp32 {t["fp32_ms"]:.1f} '
        f'ms  int8 {t["int8_ms"]:.1f} ms  ratio int8/fp32 '
        f'{t["ratio"]:.2f}',
        flush=True)
    print(f'#   {_weights_note(ckpt)}; calibration: {len(calib)} training '
          f'images; {report["settings"]}')
    metrics = {}
    for key, path in (('fp32', fp32), ('int8', int8)):
        det = init_onnxruntime_instance_model(
            copy.deepcopy(cfg), path, num_threads=threads)
        metrics[key] = coco_metrics(det, copy.deepcopy(cfg))
    for m in ('segm', 'bbox'):
        a = metrics['fp32'].get(f'coco/{m}_mAP', float('nan'))
        b = metrics['int8'].get(f'coco/{m}_mAP', float('nan'))
        print(f'  COCO {"mask" if m == "segm" else "bbox"} mAP '
              f'({len(test)} test images): fp32 {a:.4f}  int8 {b:.4f}  '
              f'change {b - a:+.4f}')
    paths = [osp.join(raw, n) for n in test]
    rows = {
        key: measurement_rows(copy.deepcopy(cfg), path, paths)
        for key, path in (('fp32', fp32), ('int8', int8))
    }
    c = compare_rows(rows['fp32'], rows['int8'])
    unit = 'mm' if c['unit'] == 'cm' else 'px'
    print(
        f'  M-mode measurements ({len(paths)} test images, {c["both_ok"]} '
        f'ok in both): mean |int8 - fp32| {c["mean_abs_mm"]:.3f} {unit} '
        f'(max {c["max_abs_mm"]:.3f}) over {c["values"]} values; '
        f'{c["status_changes"]} rows change status',
        flush=True)


# --- segmentation -----------------------------------------------------------


def _split(root: str, name: str) -> list:
    with open(osp.join(root, 'database_split', name)) as f:
        return [line.strip() for line in f if line.strip()]


def predictions(model, dataset) -> tuple:
    """(predictions, ground truths) of every dataset item."""
    from mmengine.dataset import pseudo_collate
    preds, gts = [], []
    for i in range(len(dataset)):
        data = pseudo_collate([dataset[i]])
        with torch.no_grad():
            sample = model.test_step(data)[0]
        preds.append(sample.pred_sem_seg.data[0].cpu().numpy())
        gts.append(sample.gt_sem_seg.data[0].cpu().numpy())
    return preds, gts


def dice(a: np.ndarray, b: np.ndarray, classes) -> float:
    """Mean Dice over ``classes`` present in either map (1 if none)."""
    scores = []
    for c in classes:
        x, y = a == c, b == c
        total = x.sum() + y.sum()
        if total:
            scores.append(2.0 * (x & y).sum() / total)
    return float(np.mean(scores)) if scores else 1.0


def run_segmentation(args, threads: int, tmp: str) -> None:
    from mmengine.config import Config

    from mmecho.apis import init_segmentor
    from mmecho.deployment import export_onnx
    from mmecho.deployment.quantization import (find_calibration_files,
                                                segmentation_calibration_inputs
                                                )
    from mmecho.registry import DATASETS
    root = args.camus_root
    if not osp.isdir(osp.join(root, 'database_split')):
        root = _phantom('camus', osp.join(tmp, 'camus'), num=30, seed=0)
    cfg = Config.fromfile(_resolve(args.seg_config))
    # the thesis split where the phantom has one, else the official-style
    prefix = 'thesis_' if osp.isfile(
        osp.join(root, 'database_split', 'thesis_training.txt')) else \
        'subgroup_'
    scored = _split(root, f'{prefix}validation.txt') + _split(
        root, f'{prefix}testing.txt')
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(
        data_root=root,
        split=scored,
        views=('2CH', '4CH'),
        instants='all',
        frames=tuple(args.seg_frames))
    dataset = DATASETS.build(dataset_cfg)
    ckpt = args.seg_checkpoint
    torch.manual_seed(args.seed)
    model = init_segmentor(cfg, None if ckpt == 'random' else ckpt)
    fp32, int8 = osp.join(tmp, 'seg.onnx'), osp.join(tmp, 'seg.int8.onnx')
    size = tuple(cfg.model.data_preprocessor.get('size') or (256, 256))
    channels = len(cfg.model.data_preprocessor.mean)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        export_onnx(model, torch.randn(1, channels, *size), fp32)
    train_dirs = [
        osp.join(root, 'database_nifti', p)
        for p in _split(root, f'{prefix}training.txt')
    ]
    calib = segmentation_calibration_inputs(cfg,
                                            find_calibration_files(train_dirs),
                                            args.calib_num)
    report = _quantize(fp32, int8, calib)
    t = time_pair(fp32, int8, calib[0], args, threads)
    name = osp.splitext(osp.basename(args.seg_config))[0]
    print(
        f'{name}  {"x".join(map(str, calib[0].shape))}  fp32 '
        f'{t["fp32_ms"]:.1f} ms  int8 {t["int8_ms"]:.1f} ms  ratio '
        f'int8/fp32 {t["ratio"]:.2f}',
        flush=True)
    print(f'#   {_weights_note(ckpt)}; calibration: {len(calib)} frames of '
          f'the {len(train_dirs)} training patients; {report["settings"]}')
    num_classes = int(cfg.model.decode_head.num_classes)
    fg = range(1, num_classes)
    preds = {}
    for key, path in (('fp32', fp32), ('int8', int8)):
        m = init_segmentor(
            cfg, backend='onnxruntime', onnx=path, num_threads=threads)
        preds[key], gts = predictions(m, dataset)
    d32 = np.mean([dice(p, g, fg) for p, g in zip(preds['fp32'], gts)])
    d8 = np.mean([dice(p, g, fg) for p, g in zip(preds['int8'], gts)])
    agree = np.mean(
        [dice(a, b, fg) for a, b in zip(preds['int8'], preds['fp32'])])
    pixels = np.mean([(a == b).mean()
                      for a, b in zip(preds['int8'], preds['fp32'])])
    classes = ', '.join(dataset.metainfo['classes'][1:])
    print(
        f'  Dice ({classes}) vs ground truth ({len(dataset)} frames of '
        f'{len(scored)} validation/test patients): fp32 {d32:.4f}  int8 '
        f'{d8:.4f}  change {d8 - d32:+.4f}; int8 vs fp32 Dice {agree:.4f},'
        f' {100 * pixels:.2f} % of pixels agree',
        flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmecho.deployment.extras import require_deploy_extras
    require_deploy_extras()
    from mmengine.logging import MMLogger

    from mmecho.utils import register_all_modules
    register_all_modules()
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    warnings.filterwarnings('ignore', message='.*build_loss.*')
    warnings.filterwarnings('ignore', message='checkpoint is None')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    print(f'# {threads} thread(s) each, median of {args.iters} interleaved '
          f'calls after {args.warmup} warm-up call(s); onnxruntime '
          f'{__import__("onnxruntime").__version__}')
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        if not args.skip_instance:
            run_instance(args, threads, work)
        if not args.skip_segmentation:
            run_segmentation(args, threads, work)
    print(f'# {time.perf_counter() - start:.0f} s in all')
    return 0


if __name__ == '__main__':
    sys.exit(main())
