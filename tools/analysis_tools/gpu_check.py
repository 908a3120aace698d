# Copyright (c) mmecho contributors. All rights reserved.
"""One command that measures what a lent GPU can do, as one Markdown table.

    python tools/analysis_tools/gpu_check.py --work-dir work_dirs/gpu_check --out docs/gpu_check_table.md

Options: ``--device {auto,cuda,cuda:N,cpu}`` (default auto), ``--reduced``,
``--meis-config CONFIG`` (default ``configs/meis/rtm_assigner.py``). On a
2-core CPU: ``python tools/analysis_tools/gpu_check.py --reduced --device cpu
--work-dir /tmp/gc --out /tmp/gc/table.md`` (about 35 s; what
``tests/test_tools/test_gpu_check.py`` runs).

Rows (``what | setting | value | unit``), full mode:

1. RAMEM training: the headline config (``configs/meis/rtm_assigner.py``,
   UPANet80 maYOLACT with the RTMDet assigner; README.md calls it "the
   headline config", and ``mayolact_upanet80_meis.py``, which it inherits,
   differs only in the assigner: ATSS on maIoU) trained for 50 iterations at
   544 px, batch 8, on a 32-image MEIS phantom generated under
   ``--work-dir``, once in fp32 and once with mmengine's
   ``AmpOptimWrapper`` (dynamic loss scale, as ``tools/train.py --amp``):
   seconds per iteration (median after 10 warm-up iterations, data loading
   included, as mmengine's ``IterTimerHook`` measures it), images/s and
   peak GPU memory (``torch.cuda.max_memory_allocated``).
   The runs use mmengine's Runner *in this process*, built by
   ``tools/train.py``'s own ``build_cfg`` (``load_config`` with
   ``--data-root``, ``--amp``) and then edited (batch size, iterations,
   validation and checkpoints off, input size); the per-iteration times
   are read from the Runner's message hub (``train/time``), not parsed
   from a log. In-process was chosen as the more robust: the pipeline's
   input size (a list entry) can be changed without list-index
   ``--cfg-options``, no log format is parsed, and an error arrives as an
   exception with its message for the table.
2. Network FPS (backbone + neck + heads, no post-processing), batch 1,
   544x544, of UPANet80 maYOLACT (the same config) and YOLACT-R50
   (``configs/meis/yolact_r50_meis.py``), fp32 and fp16 autocast, with
   ``tools/analysis_tools/benchmark.py``'s ``build``/``runners``/
   ``interleaved`` (the two models' runs alternate); FPS = 1 / median.
3. U-Net-R34 and DeepLabV3+-EffB3 (CAMUS grid leaves) at 256x256, batch 8:
   training images/s (``model.loss`` with the configs' CE + Dice on random
   images and label maps, backward, Adam step) and inference images/s
   (eval, no_grad, ``mode='tensor'``), median of the timed iterations.
4. Pseudo-label throughput: 20 phantom frames of 512x512 (CAMUS phantom
   renderer) propagated with ``mmecho.registration.propagate_labels`` by
   the registration network of paper 001 (``configs/registration/
   bspline_dlir_camus.py``, bidirectional with the Eq. 1 fusion, the
   default of ``tools/generate_pseudo_labels.py``) and of paper 003
   (``configs/mnms/voxelmorph_mnms.py``, forward, paper 003's choice),
   each registering at the size its config trains at (512 and 256), batch
   8, random weights (speed does not depend on them); frames/s = frames /
   median seconds per sequence.

``--reduced`` runs the same rows tiny (2 training iterations of which 1
warm-up, batch 2, 64x64 inputs, a 4-image phantom, 1 warm-up + 2 timed
runs, 4 pseudo-label frames at 64x64); it is chosen, with a note, when no
CUDA device is visible unless ``--device cpu`` forces the full mode. AMP,
fp16 and GPU-memory rows say ``skipped (no CUDA)`` on a CPU. The line
above the table names the device, torch and the mode.

A row that fails says ``error: ...`` and the tool goes on; it exits 1 at
the end if any row failed (0 otherwise). Rows are printed as they are
measured, and ``--out`` is rewritten atomically after each section
(``mmecho.utils.atomic_write_text``), so a partial result is kept.
"""
import argparse
import gc
import importlib.util
import logging
import os
import os.path as osp
import shutil
import statistics
import sys
import time
import traceback
import warnings

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

MEIS_CONFIG = 'configs/meis/rtm_assigner.py'
YOLACT_CONFIG = 'configs/meis/yolact_r50_meis.py'
SEG_MODELS = (('U-Net-R34', 'configs/camus/unet/unet_r34_camus.py'),
              ('DeepLabV3+-EffB3',
               'configs/camus/deeplabv3plus/deeplabv3plus_effb3_camus.py'))
REG_MODELS = (('DLIR B-spline (paper 001)',
               'configs/registration/bspline_dlir_camus.py', 'bidirectional'),
              ('VoxelMorph (paper 003)', 'configs/mnms/voxelmorph_mnms.py',
               'forward'))
SKIP = 'skipped (no CUDA)'

# what each mode measures
SETTINGS = dict(
    full=dict(
        meis_size=544,
        meis_batch=8,
        meis_iters=50,
        meis_warmup=10,
        phantom=32,
        fps_size=544,
        fps_warmup=10,
        fps_iters=50,
        seg_size=256,
        seg_batch=8,
        seg_warmup=3,
        seg_iters=20,
        reg_size=512,
        reg_frames=20,
        reg_warmup=1,
        reg_repeats=3),
    reduced=dict(
        meis_size=64,
        meis_batch=2,
        meis_iters=2,
        meis_warmup=1,
        phantom=4,
        fps_size=64,
        fps_warmup=1,
        fps_iters=2,
        seg_size=64,
        seg_batch=2,
        seg_warmup=1,
        seg_iters=2,
        reg_size=64,
        reg_frames=4,
        reg_warmup=1,
        reg_repeats=2))


def row_names(meis_label='UPANet80 maYOLACT'):
    """The ``what`` column of every row, in order."""
    names = []
    for prec in ('fp32', 'AMP'):
        names += [
            f'MEIS train {prec} ({meis_label}): time per iteration',
            f'MEIS train {prec} ({meis_label}): throughput',
            f'MEIS train {prec} ({meis_label}): peak GPU memory'
        ]
    for prec in ('fp32', 'fp16'):
        for model in ('UPANet80 maYOLACT', 'YOLACT-R50'):
            names.append(f'network FPS {model} {prec}')
    for name, _ in SEG_MODELS:
        names += [f'{name} train', f'{name} inference']
    for name, _, _ in REG_MODELS:
        names.append(f'pseudo-labels {name}')
    return names


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--work-dir',
        default='work_dirs/gpu_check',
        help='phantom and training work dirs go here')
    p.add_argument('--out', help='also write the table to this .md file')
    p.add_argument(
        '--device',
        default='auto',
        help='auto (cuda if visible), cuda, cuda:N or cpu; cpu runs the '
        'full mode unless --reduced')
    p.add_argument(
        '--reduced',
        action='store_true',
        help='tiny settings (the mode chosen automatically without CUDA)')
    p.add_argument(
        '--meis-config',
        default=MEIS_CONFIG,
        help='the RAMEM config trained and timed (default: %(default)s)')
    return p.parse_args(argv)


def resolve_mode(args):
    """``(device, mode, note)``."""
    cuda = torch.cuda.is_available()
    note = None
    if args.device == 'auto':
        device = 'cuda' if cuda else 'cpu'
        if not cuda and not args.reduced:
            note = ('note: no CUDA device is visible: running the reduced '
                    'mode (--device cpu forces the full mode on the CPU)')
            return device, 'reduced', note
    else:
        device = args.device
        if device.startswith('cuda') and not cuda:
            raise SystemExit(f'--device {device}: no CUDA device is visible')
    return device, 'reduced' if args.reduced else 'full', note


def load_tool(name):
    """A module of ``tools/`` imported from its file (tools are no
    package)."""
    path = osp.join(ROOT, 'tools', *name.split('/')) + '.py'
    mod_name = 'gpu_check_' + name.replace('/', '_')
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    return mod


def sync(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def free(device):
    gc.collect()
    if str(device).startswith('cuda'):
        torch.cuda.empty_cache()


def quiet_init(model):
    """``init_weights()`` without mmengine's one INFO record per
    parameter."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def fmt(value):
    if isinstance(value, str):
        return value
    if value >= 100:
        return f'{value:.1f}'
    if value >= 1:
        return f'{value:.2f}'
    return f'{value:.4f}'


class Table:
    """Rows printed as they come, and rewritten to ``out`` on ``save()``."""

    def __init__(self, title, out=None):
        self.title = title
        self.out = out
        self.rows = []
        self.failed = False

    def header(self):
        return [
            self.title, '', '| what | setting | value | unit |',
            '|---|---|---:|---|'
        ]

    def add(self, what, setting, value, unit):
        if isinstance(value, str) and value.startswith('error'):
            self.failed = True
        value = fmt(value).replace('|', '/').replace('\n', ' ')
        line = f'| {what} | {setting} | {value} | {unit} |'
        self.rows.append(line)
        print(line, flush=True)

    def text(self):
        return '\n'.join(self.header() + self.rows) + '\n'

    def save(self):
        if self.out:
            from mmecho.utils import atomic_write_text
            atomic_write_text(self.out, self.text())


def section(table, names, setting, fn, device):
    """Run ``fn(add)``; on an exception, every row of ``names`` not added
    yet gets the error."""
    done = set()

    def add(what, value, unit, row_setting=None):
        done.add(what)
        table.add(what, row_setting or setting, value, unit)

    try:
        fn(add)
    except Exception as e:  # noqa: BLE001  (any failure is reported)
        msg = str(e).strip().splitlines()
        msg = msg[0][:200] if msg else ''
        traceback.print_exc(file=sys.stderr)
        for what in names:
            if what not in done:
                table.add(what, setting, f'error: {type(e).__name__}: {msg}',
                          '-')
    finally:
        free(device)
        table.save()


# 1. RAMEM training ---------------------------------------------------------


def meis_cfg(train_tool, config, data_root, work_dir, amp, s):
    """``tools/train.py``'s config for this run, then the benchmark's
    edits."""
    cfg = train_tool.build_cfg(
        argparse.Namespace(
            config=config,
            cfg_options=None,
            work_dir=work_dir,
            data_root=data_root,
            amp=amp,
            resume=None,
            launcher='none'))
    size = s['meis_size']
    if size != 544:
        old = tuple(cfg.get('img_scale', (544, 544)))
        for t in cfg.train_dataloader.dataset.pipeline:
            if t['type'] == 'RandomChoiceResize':
                t['scales'] = [(size, size)]
            for key in ('crop_size', 'size'):
                if tuple(t.get(key) or ()) == old:
                    t[key] = (size, size)
    cpus = os.cpu_count() or 1
    workers = 0 if s is SETTINGS['reduced'] else min(8, max(1, cpus - 2))
    cfg.train_dataloader.batch_size = s['meis_batch']
    # endless, so every batch is full (a small phantom's epoch would end
    # in a short batch: one sample hits BatchNorm on 1x1 maps at 64 px)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_dataloader.num_workers = workers
    cfg.train_dataloader.persistent_workers = workers > 0
    cfg.train_cfg.max_iters = s['meis_iters']
    cfg.train_cfg.val_interval = s['meis_iters'] + 1
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = max(1, s['meis_iters'])
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    cfg.experiment_name = (f'gpu_check_{"amp" if amp else "fp32"}_'
                           f'{os.getpid()}_{time.time_ns()}')
    # the Runner places the model itself (CUDA when visible)
    return cfg


def run_meis(table, args, device, s, cuda):
    config = args.meis_config
    label = 'UPANet80 maYOLACT'
    size, batch = s['meis_size'], s['meis_batch']
    setting = (f'{osp.basename(config)}, {size}x{size}, batch {batch}, '
               f'{s["meis_iters"]} it ({s["meis_warmup"]} warm-up), '
               f'{s["phantom"]}-image phantom')
    phantom = osp.join(args.work_dir, 'meis_phantom')
    state = {}

    def prepare():
        if 'train_tool' not in state:
            from mmecho.phantoms import make_meis_phantom
            if osp.isdir(phantom):
                shutil.rmtree(phantom)
            make_meis_phantom(phantom, num=s['phantom'], seed=0)
            state['train_tool'] = load_tool('train')
        return state['train_tool']

    for prec, amp in (('fp32', False), ('AMP', True)):
        names = [
            f'MEIS train {prec} ({label}): time per iteration',
            f'MEIS train {prec} ({label}): throughput',
            f'MEIS train {prec} ({label}): peak GPU memory'
        ]
        if amp and not cuda:
            for what, unit in zip(names, ('s/iter', 'images/s', 'GiB')):
                table.add(what, setting, SKIP, unit)
            continue

        def fn(add, amp=amp, names=names, prec=prec):
            from mmengine.runner import Runner
            train_tool = prepare()
            cfg = meis_cfg(train_tool, config, phantom,
                           osp.join(args.work_dir, f'meis_{prec.lower()}'),
                           amp, s)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            runner = Runner.from_cfg(cfg)
            try:
                runner.train()
                buf = runner.message_hub.get_scalar('train/time')
                times = [float(t) for t in buf.data[0]]
                data = runner.message_hub.get_scalar('train/data_time')
                data_times = [float(t) for t in data.data[0]]
            finally:
                del runner
            if len(times) != s['meis_iters']:
                raise RuntimeError(f'{len(times)} iteration times for '
                                   f'{s["meis_iters"]} iterations')
            timed = times[s['meis_warmup']:]
            med = statistics.median(timed)
            wait = statistics.median(data_times[s['meis_warmup']:])
            row = f'{setting}; data wait {wait:.3f} s/it'
            add(names[0], med, 's/iter', row)
            add(names[1], batch / med, 'images/s', row)
            if cuda:
                add(names[2],
                    torch.cuda.max_memory_allocated() / 2**30, 'GiB', row)
            else:
                add(names[2], SKIP, 'GiB', row)

        section(table, names, setting, fn, device)


# 2. network FPS --------------------------------------------------------------


def run_fps(table, args, device, s, cuda):
    size = s['fps_size']
    setting = (f'batch 1, {size}x{size}, network only, {s["fps_warmup"]} '
               f'warm-up + {s["fps_iters"]} timed runs, interleaved, median')
    bench = {}

    def models():
        if 'models' not in bench:
            from mmecho.utils import register_all_modules
            register_all_modules()
            tool = load_tool('analysis_tools/benchmark')
            bench['tool'] = tool
            bench['models'] = [
                tool.build(c, None, device)
                for c in (args.meis_config, YOLACT_CONFIG)
            ]
        return bench['tool'], bench['models']

    for prec in ('fp32', 'fp16'):
        names = [
            f'network FPS {m} {prec}'
            for m in ('UPANet80 maYOLACT', 'YOLACT-R50')
        ]
        if prec == 'fp16' and not cuda:
            for what in names:
                table.add(what, setting, SKIP, 'FPS')
            continue

        def fn(add, prec=prec, names=names):
            tool, built = models()
            opts = argparse.Namespace(
                shape=[size, size],
                ori_shape=[768, 1024],
                channels_last=False,
                fp16=prec == 'fp16')
            fns = [tool.runners(m, opts, device)[0]['net'] for m in built]
            times = tool.interleaved(fns, s['fps_warmup'], s['fps_iters'],
                                     device)
            for what, t in zip(names, times):
                add(what, 1 / statistics.median(t), 'FPS')

        section(table, names, setting, fn, device)
    bench.clear()
    free(device)


# 3. CAMUS segmentation networks -------------------------------------------


def seg_step_fns(config, device, s):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmecho.registry import MODELS
    from mmecho.utils import load_config
    cfg = load_config(osp.join(ROOT, config))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    quiet_init(model)
    model.to(device)
    b, n = s['seg_batch'], s['seg_size']
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, 3, n, n, generator=g).to(device)
    labels = torch.randint(0, 4, (b, 1, n, n), generator=g).to(device)
    samples = []
    for i in range(b):
        ds = SegDataSample(
            metainfo=dict(
                img_shape=(n, n), pad_shape=(n, n), ori_shape=(n, n)))
        ds.gt_sem_seg = PixelData(data=labels[i])
        samples.append(ds)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train():
        losses = model.loss(x, samples)
        loss, _ = model.parse_losses(losses)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def infer():
        model(x, mode='tensor')

    return model, train, infer


def time_steps(step, warmup, iters, device):
    for _ in range(warmup):
        step()
    sync(device)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_seg(table, args, device, s, cuda):
    b, n = s['seg_batch'], s['seg_size']
    for name, config in SEG_MODELS:
        names = [f'{name} train', f'{name} inference']
        setting = (f'{n}x{n}, batch {b}, fp32, {s["seg_warmup"]} warm-up + '
                   f'{s["seg_iters"]} timed, median')

        def fn(add, config=config, names=names, setting=setting):
            model, train, infer = seg_step_fns(config, device, s)
            model.train()
            t = time_steps(train, s['seg_warmup'], s['seg_iters'], device)
            add(names[0], b / t, 'images/s',
                f'{setting}; loss (CE + Dice) + backward + Adam')
            model.eval()
            t = time_steps(infer, s['seg_warmup'], s['seg_iters'], device)
            add(names[1], b / t, 'images/s',
                f'{setting}; eval, no_grad, tensor mode')

        section(table, names, setting, fn, device)


# 4. registration pseudo-labels ----------------------------------------------


def sequence(frames, size):
    """A CAMUS-phantom sequence ``(T, H, W)`` and its labels, via
    ``benchmark_pseudo_labels.phantom_sequence``; random frames with a
    disc label if that cannot be used."""
    try:
        tool = load_tool('analysis_tools/benchmark_pseudo_labels')
        return tool.phantom_sequence(frames, (size, size))
    except Exception as e:  # noqa: BLE001
        print(
            f'note: phantom sequence unavailable ({e}); random frames',
            file=sys.stderr)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (frames, size, size), dtype=np.uint8)
    yy, xx = np.mgrid[:size, :size]
    disc = ((yy - size / 2)**2 + (xx - size / 2)**2 < (size / 4)**2)
    lab = np.repeat(disc[None].astype(np.uint8), frames, 0)
    return img, lab


def run_reg(table, args, device, s, cuda):
    from mmecho.registration import propagate_labels
    from mmecho.registration.pseudo_labels import (load_registration_model,
                                                   model_fields_fn)
    n, T = s['reg_size'], s['reg_frames']
    reduced = s is SETTINGS['reduced']
    for name, config, mode in REG_MODELS:
        what = f'pseudo-labels {name}'
        setting = f'{T} frames of {n}x{n}, {mode}'

        def fn(add, config=config, mode=mode, what=what, setting=setting):
            model, size = load_registration_model(
                osp.join(ROOT, config), None, device)
            if reduced:
                size = (n, n)
            frames, labels = sequence(T, n)
            fields = model_fields_fn(model)
            times = []
            for i in range(s['reg_warmup'] + s['reg_repeats']):
                sync(device)
                t0 = time.perf_counter()
                propagate_labels(
                    fields,
                    frames,
                    labels[0],
                    labels[-1],
                    mode,
                    model.num_classes,
                    size=size,
                    batch_size=8,
                    device=device)
                sync(device)
                if i >= s['reg_warmup']:
                    times.append(time.perf_counter() - t0)
            add(
                what, T / statistics.median(times), 'frames/s',
                f'{setting}, registered at {size[0]}x{size[1]}, batch 8, '
                f'random weights, median of {s["reg_repeats"]}')

        section(table, [what], setting, fn, device)


def main(argv=None):
    args = parse_args(argv)
    device, mode, note = resolve_mode(args)
    cuda = device.startswith('cuda')
    if note:
        print(note, flush=True)
    # paths relative to where the command runs; configs relative to ROOT
    args.work_dir = osp.abspath(args.work_dir)
    if args.out:
        args.out = osp.abspath(args.out)
    args.meis_config = osp.abspath(args.meis_config) if osp.exists(
        args.meis_config) else args.meis_config
    os.chdir(ROOT)
    os.makedirs(args.work_dir, exist_ok=True)
    if cuda:
        dev = torch.device(device)
        name = torch.cuda.get_device_name(dev)
        torch.cuda.set_device(dev)
    else:
        name = 'cpu'
    s = SETTINGS[mode]
    title = (f'**gpu_check** device: {name}; torch {torch.__version__}; '
             f'mode: {mode}; {torch.get_num_threads()} CPU threads')
    table = Table(title, args.out)
    print('\n'.join(table.header()), flush=True)
    table.save()

    from mmecho.utils import register_all_modules
    register_all_modules()
    for run in (run_meis, run_fps, run_seg, run_reg):
        run(table, args, device, s, cuda)
    if args.out:
        print(f'\ntable written to {args.out}', flush=True)
    if table.failed:
        print('some rows failed (see "error:" above)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
