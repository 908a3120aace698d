# Copyright (c) mmecho contributors. All rights reserved.
"""Paper 001 in one command: registration, pseudo-labels, their quality,
and the 2D sparse / 2D dense / 3D (2D+time) models on CAMUS.

    python tools/registration_benchmark.py --phantom --work-dir W \\
        [--seed S] [--reg-iters N] [--seg-iters N] [--size 128]
    python tools/registration_benchmark.py --data-root data/camus \\
        --work-dir W [--seed S] [--device cuda]

Steps (the chain of ``make demo-registration``; each one's result is kept
under ``--work-dir`` and skipped when the command is run again, an
interrupted training resumes from its last checkpoint):

1. train the registration model (``tools/train.py``; default
   ``configs/registration/bspline_dlir_camus-phantom.py`` with
   ``--phantom``, ``bspline_dlir_camus.py`` otherwise) in ``W/registration``;
   its best checkpoint (validation NCC after warping; else the last) and
   the config as trained (mmengine's copy, ``W/registration/<config>.py``,
   with the size and data root given here) make the pseudo-labels;
2. ``tools/generate_pseudo_labels.py --mode {forward,backward,
   bidirectional}`` for every patient into ``W/pseudo/<mode>``;
3. ``tools/analysis_tools/evaluate_pseudo_labels.py`` scores them against
   the dense references (``half_sequence_gt``) of ``--eval-split`` (default
   the test split) into ``W/pseudo_eval``;
4. train and test (``tools/train.py``, ``tools/test.py`` with the sequence
   metrics, ``TemporalSegMetric``) the three models of
   ``configs/temporal``: ``unet2d_sparse`` (ED/ES frames), ``unet2d_dense``
   and ``unet3d_dense`` (every frame, labelled by the ``--dense-mode``
   pseudo-labels, default bidirectional) in ``W/<config name>``.

Tables (``write_table``: Markdown and CSV, written atomically):

- ``W/table.md`` / ``table.csv``: per model, Dice at ED and ES per
  structure (LV cavity, myocardium, LA), the EF MAE (Simpson's biplane,
  percentage points) and the temporal smoothness of each structure's area
  curve (Eq. 2 in cm^4, lower is smoother; the test evaluator's
  ``{S}_ED_Dice``, ``{S}_ES_Dice``, ``EF_MAE``, ``{S}_smooth``);
- ``W/pseudo_labels.md`` / ``pseudo_labels.csv``: per propagation mode,
  Dice, HD and MAD (mm) per structure, over every frame of the evaluated
  sequences;
- ``W/results.json``: every number (the evaluator's whole summary per model,
  HD/MAD, EDV/ESV/EF corr/bias/MAE, the reference curves' smoothness and
  paper 001's pixel-trapezoid variant, pseudo-label SDs), the settings.

``--seed S`` trains the registration model and the three segmentation
models with ``randomness.seed=S``; the phantom is fixed (``--phantom``
writes the phantom of ``make_phantom.py camus --num 30 --seed 0``
to ``--data-root``, default ``data/camus_phantom``, when it is missing), so
seeds measure the training's variation only. ``--size S`` trains every model
on S x S frames (the B-spline grid spacing scales with it, keeping the 16 x
16 control grid); ``--reg-iters`` / ``--seg-iters`` shorten the schedules.
"""
import argparse
import csv
import hashlib
import os
import os.path as osp
import sys
import time

# tools/misc: the train / test subprocess helpers and the benchmark steps
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'misc'))
from benchmark_steps import (check_settings,  # noqa: E402
                             iter_schedule_overrides, load_json, repo_path,
                             run_script, size_overrides, tool_script,
                             workers_overrides, write_json)
from tool_runs import (ensure_camus_phantom, pick_checkpoint,  # noqa: E402
                       train_and_test, train_command, write_table)

MODES = ('forward', 'backward', 'bidirectional')
STRUCTURES = ('LV', 'MYO', 'LA')
#: (row name, config stem) of the three segmentation models
MODELS = (('2D sparse', 'unet2d_sparse'), ('2D dense', 'unet2d_dense'),
          ('3D (2D+time)', 'unet3d_dense'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument(
        '--phantom',
        action='store_true',
        help='the CAMUS phantom and the -phantom configs; the phantom is '
        'written to --data-root when it is missing')
    p.add_argument(
        '--data-root',
        help='CAMUS root (default data/camus_phantom with --phantom)')
    p.add_argument('--phantom-num', type=int, default=30)
    p.add_argument(
        '--pseudo-only',
        action='store_true',
        help='stop after the pseudo-labels and their quality table (no '
        'segmentation models)')
    p.add_argument('--work-dir', default='work_dirs/registration_benchmark')
    p.add_argument('--seed', type=int, help='training seed (randomness.seed)')
    p.add_argument(
        '--reg-config',
        help='registration config (default: bspline_dlir_camus[-phantom])')
    p.add_argument(
        '--seg-configs',
        nargs=3,
        metavar=('SPARSE', 'DENSE', 'SEQUENCE'),
        help='the 2D sparse, 2D dense and 2D+time configs (default: '
        'configs/temporal/*_camus[-phantom].py)')
    p.add_argument(
        '--reg-iters',
        type=int,
        help='registration iterations (default: the config)')
    p.add_argument(
        '--seg-iters',
        type=int,
        help='iterations of each segmentation model (default: the config)')
    p.add_argument(
        '--size',
        type=int,
        help='frame side of every model (default: the configs\')')
    p.add_argument('--num-workers', type=int)
    p.add_argument(
        '--dense-mode',
        choices=MODES,
        default='bidirectional',
        help='pseudo-labels the dense models train on')
    p.add_argument(
        '--eval-split',
        default='database_split/subgroup_testing.txt',
        help='patients whose pseudo-labels are scored (relative to the '
        'data root; "all" for every patient)')
    p.add_argument(
        '--device',
        help='device of the pseudo-label generation (default: cuda when '
        'available)')
    args = p.parse_args(argv)
    if not args.phantom and not args.data_root:
        p.error('give --data-root (CAMUS) or --phantom')
    if args.phantom and not args.data_root:
        args.data_root = 'data/camus_phantom'
    suffix = '-phantom' if args.phantom else ''
    if not args.reg_config:
        args.reg_config = repo_path('configs', 'registration',
                                    f'bspline_dlir_camus{suffix}.py')
    if not args.seg_configs:
        args.seg_configs = [
            repo_path('configs', 'temporal', f'{stem}_camus{suffix}.py')
            for _, stem in MODELS
        ]
    if not args.device:
        import torch
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return args


def common_overrides(args, config, iters):
    opts = [f'data_root={args.data_root}']
    opts += size_overrides(config, args.size)
    opts += iter_schedule_overrides(config, iters)
    opts += workers_overrides(config, args.num_workers)
    if args.seed is not None:
        opts.append(f'randomness.seed={args.seed}')
    return opts


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def step_registration(args, log):
    work = osp.join(args.work_dir, 'registration')
    opts = common_overrides(args, args.reg_config, args.reg_iters)
    check_settings(work, dict(config=args.reg_config, cfg_options=opts),
                   'registration')
    res = load_json(osp.join(work, 'result.json'))
    if res:
        print('[registration] done before, skipped', flush=True)
        return res
    print('[registration] training ...', flush=True)
    t0 = time.time()
    run_script(train_command(args.reg_config, work, opts), log, 'registration')
    # the config as trained (cfg-options applied), dumped by mmengine's
    # runner: the pseudo-label tool builds the model and reads the frame
    # size from it
    trained_cfg = osp.join(work, osp.basename(args.reg_config))
    if not osp.isfile(trained_cfg):
        raise SystemExit(f'[registration] {trained_cfg} missing: tools/'
                         'train.py did not dump the config it trained')
    ckpt = pick_checkpoint(work)
    res = dict(
        config=args.reg_config,
        trained_config=trained_cfg,
        checkpoint=ckpt,
        checkpoint_sha256=file_sha256(ckpt),
        seconds=time.time() - t0,
        cfg_options=opts)
    write_json(osp.join(work, 'result.json'), res)
    return res


def step_pseudo_labels(args, reg, log):
    out = {}
    for mode in MODES:
        root = osp.join(args.work_dir, 'pseudo', mode)
        out[mode] = root
        marker = osp.join(args.work_dir, 'pseudo', f'{mode}.done.json')
        done = load_json(marker)
        if done and done.get('checkpoint_sha256') == \
                reg['checkpoint_sha256']:
            print(f'[pseudo {mode}] done before, skipped', flush=True)
            continue
        print(f'[pseudo {mode}] propagating the ED/ES labels ...', flush=True)
        cmd = [
            tool_script('generate_pseudo_labels.py'), reg['trained_config'],
            reg['checkpoint'], args.data_root, '--mode', mode, '--out', root,
            '--device', args.device
        ]
        if done:  # made with another checkpoint
            cmd.append('--overwrite')
        t0 = time.time()
        run_script(cmd, log, f'pseudo {mode}')
        write_json(
            marker,
            dict(
                checkpoint=reg['checkpoint'],
                checkpoint_sha256=reg['checkpoint_sha256'],
                root=root,
                seconds=time.time() - t0))
    return out


def step_pseudo_eval(args, reg, roots, log):
    out = osp.join(args.work_dir, 'pseudo_eval')
    res = load_json(osp.join(out, 'result.json'))
    if res and res.get('checkpoint_sha256') == reg['checkpoint_sha256'] \
            and res.get('split') == args.eval_split:
        print('[pseudo-label quality] done before, skipped', flush=True)
        return res
    print(
        '[pseudo-label quality] scoring against the dense references ...',
        flush=True)
    cmd = [
        tool_script('analysis_tools', 'evaluate_pseudo_labels.py'),
        args.data_root
    ]
    if args.eval_split != 'all':
        cmd += ['--split', args.eval_split]
    cmd += ['--pseudo'] + [f'{m}={r}' for m, r in roots.items()]
    cmd += ['--out', out]
    run_script(cmd, log, 'pseudo-label quality')
    with open(osp.join(out, 'summary.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    summary = {}
    for r in rows:
        rec = {
            k: float(v)
            for k, v in r.items() if k not in ('method', 'structure')
        }
        summary.setdefault(r['method'], {})[r['structure']] = rec
    res = dict(
        split=args.eval_split,
        checkpoint_sha256=reg['checkpoint_sha256'],
        summary=summary)
    write_json(osp.join(out, 'result.json'), res)
    return res


def dense_label_overrides(config, root):
    """Point a model trained on pseudo-labels at ``root``; ``[]`` for a
    model trained on the ED/ES references only."""
    from mmengine.config import Config
    ds = Config.fromfile(config).train_dataloader.dataset
    if ds.get('sequence_labels') == 'half_sequence_pseudo':
        return [f'train_dataloader.dataset.sequence_label_root={root}']
    if ds.get('labels') == 'half_sequence_pseudo':
        return [f'train_dataloader.dataset.label_root={root}']
    return []


def step_model(args, name, config, reg, pseudo_root, log):
    stem = osp.splitext(osp.basename(config))[0]
    work = osp.join(args.work_dir, stem)
    opts = common_overrides(args, config, args.seg_iters)
    settings = dict(config=config, cfg_options=opts)
    dense = dense_label_overrides(config, pseudo_root)
    if dense:  # trained on the pseudo-labels of this registration model
        opts += dense
        settings.update(
            cfg_options=opts, registration_sha256=reg['checkpoint_sha256'])
    check_settings(work, settings, name)
    res = load_json(osp.join(work, 'result.json'))
    if res:
        print(f'[{name}] done before, skipped', flush=True)
        return res
    res = dict(
        model=name,
        cfg_options=opts,
        **train_and_test(config, work, opts, log, name))
    write_json(osp.join(work, 'result.json'), res)
    return res


def _f(value, fmt):
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return 'nan'


def pseudo_table(args, quality):
    header = ['Mode'] + [
        f'{s} {m}' for s in STRUCTURES for m in ('Dice', 'HD (mm)', 'MAD (mm)')
    ]
    rows = []
    for mode in MODES:
        per = quality['summary'].get(mode, {})
        row = [mode]
        for s in STRUCTURES:
            rec = per.get(s, {})
            row += [
                _f(rec.get('Dice'), '.3f'),
                _f(rec.get('HD'), '.2f'),
                _f(rec.get('MAD'), '.2f')
            ]
        rows.append(row)
    return write_table(header, rows, osp.join(args.work_dir, 'pseudo_labels'))


def model_table(args, results):
    header = ['Model']
    for s in STRUCTURES:
        header += [f'{s} ED Dice', f'{s} ES Dice']
    header += ['EF MAE'] + [f'{s} smooth (cm^4)' for s in STRUCTURES]
    rows = []
    for r in results:
        m = r['metrics']
        row = [r['model']]
        for s in STRUCTURES:
            row += [
                _f(m.get(f'{s}_ED_Dice'), '.3f'),
                _f(m.get(f'{s}_ES_Dice'), '.3f')
            ]
        row.append(_f(m.get('EF_MAE'), '.2f'))
        row += [_f(m.get(f'{s}_smooth'), '.4g') for s in STRUCTURES]
        rows.append(row)
    return write_table(header, rows, osp.join(args.work_dir, 'table'))


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    log = osp.join(args.work_dir, 'benchmark.log')
    if args.phantom:
        ensure_camus_phantom(args.data_root, args.phantom_num)
    reg = step_registration(args, log)
    roots = step_pseudo_labels(args, reg, log)
    quality = step_pseudo_eval(args, reg, roots, log)
    results = [] if args.pseudo_only else [
        step_model(args, name, config, reg, roots[args.dense_mode], log)
        for (name, _), config in zip(MODELS, args.seg_configs)
    ]
    pseudo_md = pseudo_table(args, quality)
    model_md = '' if args.pseudo_only else model_table(args, results)
    write_json(
        osp.join(args.work_dir, 'results.json'),
        dict(
            settings=dict(
                data_root=args.data_root,
                phantom=args.phantom,
                seed=args.seed,
                size=args.size,
                reg_iters=args.reg_iters,
                seg_iters=args.seg_iters,
                dense_mode=args.dense_mode,
                eval_split=args.eval_split),
            registration=reg,
            pseudo_labels=quality,
            models=results))
    print('\nPseudo-labels against the dense references '
          f'({args.eval_split}):\n' + pseudo_md)
    if args.pseudo_only:
        print(f'written: {osp.join(args.work_dir, "pseudo_labels.md")}, '
              'pseudo_labels.csv, results.json (--pseudo-only: no models)')
        return
    print('\nModels on every frame of the test sequences (Dice at ED/ES, '
          'EF MAE in %, Eq. 2 smoothness of the area curves):\n' + model_md)
    print(f'written: {osp.join(args.work_dir, "table.md")}, table.csv, '
          'pseudo_labels.md, pseudo_labels.csv, results.json')


if __name__ == '__main__':
    main()
