# Copyright (c) mmecho contributors. All rights reserved.
"""Paper 000 in one command: train and test MEIS instance configs and write
the label-assignment table (Table 1: assigner x overlap, bbox mAP, segm
mAP, Avg-mAP, beside the paper's mAP).

    python tools/benchmark_configs.py [CONFIG ...] --work-dir W \\
        [--data-root D | --phantom [--phantom-num 80]] [--cpu-size] \\
        [--max-iters N] [--val-interval N] [--batch-size B] \\
        [--num-workers K] [--seed S] [--cfg-options k=v ...]

Without CONFIGs: the six cells of the study, in the paper's row order
(``configs/meis/{simota,simota_maiou,atss,mayolact_upanet80_meis,
rtm_assigner_maiou,rtm_assigner}.py``; ``mayolact_upanet80_meis.py``, RAMEM's
own ATSS on maIoU, is the ATSS x maIoU cell). Any MEIS instance config
works (the baselines too); a row's assigner and overlap are read from its
``model.train_cfg.assigner``.

Each config trains with ``tools/train.py`` in ``W/<config name>`` (an
interrupted run resumes from its last checkpoint) and its best checkpoint
(``save_best``: ``coco/avg_mAP``; else the last) is tested with
``tools/test.py`` in ``W/<config name>/test``. The COCO metrics are read
from that test run's JSON log, ``test/<timestamp>/<timestamp>.json``, which
mmengine's ``LoggerHook`` writes after the test epoch with every scalar
metric unrounded (the text log rounds them to 4 digits); the test dir is
emptied before each test so exactly one run's log is there. A finished
config leaves ``result.json`` and is skipped when the command is run again;
a work dir started with other settings (schedule, seed, data, size) is
refused rather than mixed into one table.

Outputs in ``W``: ``table.md`` / ``table.csv`` (mAPs in percent, as the
paper), ``results.json`` (every ``coco/*`` metric of every config, the
settings, the paper's numbers), ``benchmark.log`` (the tools' output).

``--cpu-size`` makes the UPANet80 configs CPU-sized as
``configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py`` does (UPANet16,
FPN and head width 64, anchors 16..256 px, 256 x 256 input, training scales
192..320), leaving the assigner, losses and schedule alone; ``--max-iters``
shortens the schedule (warm-up and the x0.1 step scale with it).
``--seed S`` trains with ``randomness.seed=S``. ``--phantom`` writes the
MEIS phantom (``tools/dataset_converters/make_phantom.py meis``, seed 0:
the phantom is fixed, only training varies with ``--seed``) to
``--data-root`` (default ``data/meis_phantom``) when it is missing.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import time

# tools/misc: the train / test subprocess helpers and the benchmark steps
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'misc'))
from benchmark_steps import (check_settings,  # noqa: E402
                             iter_schedule_overrides, load_json,
                             logged_test_metrics, repo_path, run_script,
                             tool_script, workers_overrides, write_json)
from tool_runs import (checkpoint_test_command, pick_checkpoint,  # noqa: E402
                       train_command, write_table)

#: the study's cells in the row order of the paper's Table 1
STUDY = ('simota', 'simota_maiou', 'atss', 'mayolact_upanet80_meis',
         'rtm_assigner_maiou', 'rtm_assigner')
PAPER_TABLE = repo_path('projects', 'label_assignment_000',
                        'paper_table1.json')
ASSIGNERS = {
    'SimOTAAssigner': 'SimOTA',
    'ATSSAssigner': 'ATSS',
    'DynamicSoftLabelAssigner': 'soft dynamic (RTMDet)',
    'MaxIoUAssigner': 'max IoU',
}
METRICS = (('bbox mAP', 'coco/bbox_mAP'), ('segm mAP', 'coco/segm_mAP'),
           ('Avg-mAP', 'coco/avg_mAP'))
#: --cpu-size: the demo config's model and input sizes
CPU_WIDTH, CPU_FEAT, CPU_SIZE = 16, 64, 256
CPU_TRAIN_SCALES = [(16 * k, 16 * k) for k in range(12, 21)]  # 192..320


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument(
        'configs',
        nargs='*',
        help='MEIS configs (default: the six cells of the study)')
    p.add_argument('--work-dir', default='work_dirs/label_assignment')
    p.add_argument(
        '--data-root',
        help='MEIS root (default: the configs\' data/meis/, or '
        'data/meis_phantom with --phantom)')
    p.add_argument(
        '--phantom',
        action='store_true',
        help='write the MEIS phantom to --data-root when it is missing')
    p.add_argument('--phantom-num', type=int, default=80)
    p.add_argument(
        '--cpu-size',
        action='store_true',
        help='UPANet16 / width 64 / 256 px, as the phantom demo config')
    p.add_argument(
        '--max-iters', type=int, help='iterations (default: the config)')
    p.add_argument(
        '--val-interval',
        type=int,
        help='validation and checkpoint interval with --max-iters '
        '(default: once, at the end)')
    p.add_argument('--batch-size', type=int)
    p.add_argument('--num-workers', type=int)
    p.add_argument('--seed', type=int, help='training seed (randomness.seed)')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='more key=value overrides for every config (train and test)')
    p.add_argument(
        '--paper-table',
        default=PAPER_TABLE,
        help='JSON with the paper\'s Table 1 (default: %(default)s)')
    args = p.parse_args(argv)
    if not args.configs:
        args.configs = [repo_path('configs', 'meis', f'{n}.py') for n in STUDY]
    if args.phantom and not args.data_root:
        args.data_root = 'data/meis_phantom'
    names = [config_name(c) for c in args.configs]
    if len(set(names)) != len(names):
        p.error(f'two configs share a file name: {names}')
    return args


def config_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def cell(config: str):
    """(assigner, overlap) of a config, from ``model.train_cfg.assigner``."""
    from mmengine.config import Config
    assigner = Config.fromfile(config).model.get('train_cfg',
                                                 {}).get('assigner', {})
    kind = str(assigner.get('type', '-')).split('.')[-1]
    calc = str(assigner.get('iou_calculator', {}).get('type',
                                                      '')).split('.')[-1]
    return (ASSIGNERS.get(kind, kind),
            'maIoU' if calc == 'MaskAwareOverlaps2D' else 'IoU')


def cpu_size_overrides(config: str) -> list:
    """``--cfg-options`` of ``--cpu-size``: the demo config's UPANet16,
    width 64, anchors halved and 256 px input; every pipeline size equal to
    the config's ``img_scale`` becomes 256 and the training scales
    192..320."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg.model.backbone.get('type') != 'UPANetV2':
        raise SystemExit(f'--cpu-size shrinks the UPANet configs of the '
                         f'study; {config} has a {cfg.model.backbone.type}')
    w, f = CPU_WIDTH, CPU_FEAT
    sizes = [b // 2 for b in cfg.model.bbox_head.anchor_generator.base_sizes]
    opts = [
        f'model.backbone.width={w}',
        f'model.neck.in_channels=[{4 * w},{8 * w},{16 * w}]',
        f'model.neck.out_channels={f}', f'model.bbox_head.in_channels={f}',
        f'model.bbox_head.feat_channels={f}',
        'model.bbox_head.anchor_generator.base_sizes=' +
        str(sizes).replace(' ', ''), f'model.mask_head.in_channels={f}'
    ]
    full = tuple(cfg.get('img_scale', (544, 544)))
    hw = f'({CPU_SIZE},{CPU_SIZE})'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        steps = (cfg.get(loader) or {}).get('dataset', {}).get('pipeline', [])
        for i, step in enumerate(steps):
            key = f'{loader}.dataset.pipeline.{i}'
            kind = str(step.get('type', '')).split('.')[-1]
            if kind == 'RandomChoiceResize':
                scales = str(CPU_TRAIN_SCALES).replace(' ', '')
                opts.append(f'{key}.scales={scales}')
            for k in ('scale', 'size', 'crop_size'):
                v = step.get(k)
                if isinstance(v, (tuple, list)) and tuple(v) == full:
                    opts.append(f'{key}.{k}={hw}')
    return opts


def overrides(args, config: str) -> list:
    opts = []
    if args.data_root:
        opts.append(f'data_root={args.data_root}')
    if args.cpu_size:
        opts += cpu_size_overrides(config)
    opts += iter_schedule_overrides(config, args.max_iters, args.val_interval)
    if args.batch_size:
        opts.append(f'train_dataloader.batch_size={args.batch_size}')
    opts += workers_overrides(config, args.num_workers)
    if args.seed is not None:
        opts.append(f'randomness.seed={args.seed}')
    return opts + list(args.cfg_options)


def run_config(args, config: str, log: str) -> dict:
    name = config_name(config)
    work = osp.join(args.work_dir, name)
    assigner, overlap = cell(config)
    opts = overrides(args, config)
    check_settings(work, dict(config=config, cfg_options=opts), name)
    res = load_json(osp.join(work, 'result.json'))
    if res:
        print(f'[{name}] done before, skipped', flush=True)
        return res
    print(f'[{name}] training ({assigner} x {overlap}) ...', flush=True)
    t0 = time.time()
    run_script(train_command(config, work, opts), log, name)
    train_s = time.time() - t0
    ckpt = pick_checkpoint(work)
    test_dir = osp.join(work, 'test')
    shutil.rmtree(test_dir, ignore_errors=True)  # one run's log in it
    print(f'[{name}] testing {osp.basename(ckpt)} ...', flush=True)
    t0 = time.time()
    run_script(
        checkpoint_test_command(config, ckpt, test_dir, opts), log, name)
    metrics = logged_test_metrics(test_dir, prefix='coco/')
    missing = [k for _, k in METRICS if k not in metrics]
    if missing:
        raise SystemExit(f'[{name}] the test log has no {missing}; see '
                         f'{test_dir}')
    res = dict(
        config=config,
        name=name,
        assigner=assigner,
        overlap=overlap,
        checkpoint=ckpt,
        train_seconds=train_s,
        test_seconds=time.time() - t0,
        metrics=metrics,
        cfg_options=opts)
    write_json(osp.join(work, 'result.json'), res)
    return res


def write_phantom(args) -> None:
    if osp.isfile(osp.join(args.data_root, 'Allmode_train.json')):
        return
    print(f'writing the MEIS phantom to {args.data_root} ...', flush=True)
    run_script([
        tool_script('dataset_converters', 'make_phantom.py'), 'meis',
        args.data_root, '--num',
        str(args.phantom_num), '--seed', '0'
    ], osp.join(args.work_dir, 'benchmark.log'), 'phantom')


def paper_rows(path: str):
    """``({(assigner, overlap): mAP}, the JSON)`` of the paper's table;
    ``({}, None)`` without one."""
    paper = load_json(path) if path else None
    if not paper:
        return {}, None
    return {
        (r['assigner'], r['overlap']): r['mAP']
        for r in paper['rows']
    }, paper


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    log = osp.join(args.work_dir, 'benchmark.log')
    if args.phantom:
        write_phantom(args)
    paper, paper_json = paper_rows(args.paper_table)
    results = [run_config(args, c, log) for c in args.configs]
    header = ['Config', 'Assigner', 'Overlap'] + \
        [f'{h} (%)' for h, _ in METRICS] + ['Paper 000 mAP (%)']
    rows = []
    for r in results:
        p = paper.get((r['assigner'], r['overlap']))
        rows.append([r['name'], r['assigner'], r['overlap']] +
                    [f'{100 * r["metrics"][k]:.2f}'
                     for _, k in METRICS] + ['-' if p is None else f'{p:g}'])
    table = write_table(header, rows, osp.join(args.work_dir, 'table'))
    write_json(
        osp.join(args.work_dir, 'results.json'),
        dict(
            settings=dict(
                data_root=args.data_root,
                phantom=args.phantom,
                cpu_size=args.cpu_size,
                max_iters=args.max_iters,
                val_interval=args.val_interval,
                batch_size=args.batch_size,
                seed=args.seed,
                cfg_options=args.cfg_options),
            results=results,
            paper=paper_json))
    print('\n' + table)
    print('\nmAPs in percent; the paper column is paper 000\'s Table 1 on '
          'the real MEIS data (its "mAP", compared here with Avg-mAP; '
          f'{args.paper_table}).')
    print(f'written: {osp.join(args.work_dir, "table.md")}, table.csv, '
          'results.json')


if __name__ == '__main__':
    main()
