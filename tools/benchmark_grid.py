# Copyright (c) mmecho contributors. All rights reserved.
"""Train and test cells of the CAMUS grid and write the thesis-style table.

    python tools/benchmark_grid.py --archs unet deeplabv3plus \
        --encoders r34 effb3 --aug both
    python tools/benchmark_grid.py --cells unet:r34 deeplabv3plus:effb3 \
        --data-root data/camus_phantom --max-iters 300 --aug none

Each cell (architecture x encoder x augmentation) trains with
``tools/train.py`` and tests with ``tools/test.py`` in its own work dir
(``WORK_DIR/{arch}_{encoder}_{aug}``); a finished cell leaves
``result.json`` and is skipped when the command is run again, an interrupted
one resumes from its last checkpoint. After every cell ``grid_results.csv``
and ``grid_results.md`` are rewritten (atomically) with Accuracy (pixel
accuracy, mmseg's aAcc), mIoU and Recall (mean over the four classes,
background included), LV-cavity Dice and mean Dice, for initial and
augmented data, plus the parameter count and training throughput.
"""
import argparse
import json
import os
import os.path as osp

from mmecho.apis.camus_grid import (ARCHITECTURES, ENCODERS, check_cell,
                                    leaf_config_path)
from mmecho.apis.tool_runs import (count_params, data_overrides,
                                   schedule_overrides, train_and_test,
                                   write_table)
from mmecho.utils import atomic_write_text

AUGS = dict(none='None', thesis='thesis')
COLUMNS = [('Accuracy', 'aAcc'), ('mIoU', 'mIoU'), ('Recall', 'mRecall'),
           ('Dice LV', 'LV_Dice'), ('mDice', 'mDice')]


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument(
        '--archs',
        nargs='+',
        default=[],
        metavar='ARCH',
        help=f'any of {" ".join(ARCHITECTURES)}')
    p.add_argument(
        '--encoders',
        nargs='+',
        default=[],
        metavar='ENC',
        help=f'any of {" ".join(ENCODERS)}')
    p.add_argument(
        '--cells',
        nargs='+',
        default=[],
        metavar='ARCH:ENC',
        help='explicit cells instead of archs x encoders')
    p.add_argument('--aug', choices=['none', 'thesis', 'both'], default='none')
    p.add_argument(
        '--split',
        choices=['official', 'thesis'],
        default='official',
        help='thesis: random 80/10/10 over patients (written to '
        'database_split/thesis_*.txt when missing)')
    p.add_argument('--data-root', help='CAMUS root (default: the configs\')')
    p.add_argument('--work-dir', default='work_dirs/camus_grid')
    p.add_argument('--max-iters', type=int)
    p.add_argument('--val-interval', type=int)
    p.add_argument('--batch-size', type=int)
    p.add_argument('--num-workers', type=int)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='more key=value overrides for every cell')
    args = p.parse_args()
    if args.cells:
        cells = [tuple(c.split(':', 1)) for c in args.cells]
    else:
        cells = [(a, e) for a in (args.archs or list(ARCHITECTURES))
                 for e in (args.encoders or list(ENCODERS))]
    for a, e in cells:
        check_cell(a, e)
    args.cell_list = cells
    args.aug_list = ['none', 'thesis'] if args.aug == 'both' else [args.aug]
    return args


def overrides(args, aug: str):
    splits = None
    if args.split == 'thesis':
        from mmecho.datasets import thesis_split_files, write_thesis_split
        splits = thesis_split_files()
        root = args.data_root or 'data/camus'
        if not all(osp.isfile(osp.join(root, f)) for f in splits.values()):
            write_thesis_split(root, seed=args.seed)
    return ([
        f'model.data_preprocessor.augment={AUGS[aug]}',
        f'randomness.seed={args.seed}'
    ] + data_overrides(args.data_root, splits, args.batch_size,
                       args.num_workers) +
            schedule_overrides(args.max_iters, args.val_interval) +
            list(args.cfg_options))


def run_cell(args, arch, enc, aug):
    cell_dir = osp.join(args.work_dir, f'{arch}_{enc}_{aug}')
    result_path = osp.join(cell_dir, 'result.json')
    if osp.isfile(result_path):
        print(f'[{arch} x {enc} / {aug}] done before, skipped')
        with open(result_path) as f:
            return json.load(f)
    os.makedirs(cell_dir, exist_ok=True)
    config = leaf_config_path(arch, enc)
    opts = overrides(args, aug)
    log = osp.join(cell_dir, 'grid.log')
    run = train_and_test(config, cell_dir, opts, log,
                         f'{arch} x {enc} / {aug}')
    result = dict(
        arch=arch,
        encoder=enc,
        aug=aug,
        config=config,
        checkpoint=run['checkpoint'],
        params_M=count_params(config),
        train_seconds=run['train_seconds'],
        test_seconds=run['test_seconds'],
        metrics=run['metrics'])
    atomic_write_text(result_path, json.dumps(result, indent=1))
    return result


def write_tables(args, results):
    by_cell = {}
    for r in results:
        by_cell.setdefault((r['arch'], r['encoder']), {})[r['aug']] = r
    augs = args.aug_list
    label = dict(none='initial', thesis='augmented')
    header = ['Architecture', 'Encoder']
    for name, _ in COLUMNS:
        header += [f'{name} ({label[a]})' for a in augs]
    header += ['Params (M)']
    rows = []
    for (arch, enc), cell in by_cell.items():
        row = [ARCHITECTURES[arch], ENCODERS[enc][0]]
        for _, key in COLUMNS:
            for a in augs:
                v = cell.get(a, {}).get('metrics', {}).get(key)
                row.append('' if v is None else f'{v:.3f}')
        any_r = next(iter(cell.values()))
        row.append(f'{any_r["params_M"]:.2f}')
        rows.append(row)
    return write_table(header, rows, osp.join(args.work_dir, 'grid_results'))


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    results = []
    for arch, enc in args.cell_list:
        for aug in args.aug_list:
            results.append(run_cell(args, arch, enc, aug))
            table = write_tables(args, results)
    print(table)
    print(f'tables: {osp.join(args.work_dir, "grid_results.md")} and .csv')


if __name__ == '__main__':
    main()
