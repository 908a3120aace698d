# Copyright (c) mmecho contributors. All rights reserved.
"""Train and test cells of the CAMUS grid and write the thesis-style table.

    python tools/benchmark_grid.py --protocol thesis --aug both \
        --data-root data/camus --imagenet ~/imagenet
    python tools/benchmark_grid.py --archs unet deeplabv3plus \
        --encoders r34 effb3 --aug both
    python tools/benchmark_grid.py --cells unet:r34 deeplabv3plus:effb3 \
        --data-root data/camus_phantom --max-iters 300 --aug none
    python tools/benchmark_grid.py --encoders r34 effb3 --imagenet ~/imagenet
    python tools/benchmark_grid.py --cells unet:r18 \
        --imagenet r18=~/w/resnet18-f37072fd.pth

Each cell (architecture x encoder x augmentation) trains with
``tools/train.py`` and tests with ``tools/test.py`` in its own work dir
(``WORK_DIR/{arch}_{encoder}_{aug}``); a finished cell leaves
``result.json`` and is skipped when the command is run again, an interrupted
one resumes from its last checkpoint. After every cell ``grid_results.csv``
and ``grid_results.md`` are rewritten (atomically).

``--protocol thesis`` runs paper 002's experiment (configs/camus_thesis):
the LV cavity against everything else on frame 2 of every 2CH half
sequence, the seeded 400/50/50 split (``database_split/thesis_*.txt``,
written when missing), the appendix's transforms, DiceBCE, Adam 1e-3,
batch 4, 20 epochs (``--max-epochs`` shortens it). Its "augmented" arm adds
the body's augmentation (random shifts up to 20 %, zoom 0.5-2). The table
has the layout of the thesis's Tables 1-9: Accuracy (= the thesis's soft
Dice), mIoU and Recall (means over background and LV), initial and
augmented, each with the thesis's value and the difference.

``--protocol camus`` (default) is mmecho's 4-class ED/ES benchmark
(configs/camus): pixel accuracy (mmseg's aAcc), mIoU and mean recall over
the four classes, LV-cavity Dice and mean Dice. These are not the thesis's
numbers: its "Accuracy" is a Dice of a binary task.

``--imagenet DIR`` initialises every encoder with its ImageNet weights, as
the thesis did: DIR holds the published files under their published names
(``resnet18-f37072fd.pth``, ``resnet34-b627a593.pth``,
``resnet50-0676ba61.pth`` or ``-19c8e357``, ``resnet101-63fe2227.pth`` or
``-5d3b4d8f``, ``mobilenet_v2-b0353104.pth``,
``efficientnet-b{0,1,3,5,7}-*.pth`` of lukemelas' EfficientNet-PyTorch;
``mmecho.grid.IMAGENET_FILES``); ``ENC=PATH`` pairs name files
explicitly. Each cell then gets ``model.backbone.pretrained=PATH`` (loaded
strictly: a file that does not fit the encoder stops the cell) and its own
work dir ``{arch}_{encoder}_{aug}_imagenet``. The plain encoder has no
ImageNet weights; its cells train from scratch (and say so). For one config,
``tools/train.py CONFIG --cfg-options model.backbone.pretrained=PATH`` does
the same.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmecho.grid import (ARCHITECTURES, ENCODERS, NO_IMAGENET, PROTOCOLS,
                         check_cell, imagenet_cfg_options, leaf_config_path,
                         parse_imagenet_source, thesis_values)
from mmecho.utils import atomic_write_text, count_params

# tools/misc/tool_runs.py: the train / test subprocess helpers
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'misc'))
from tool_runs import (data_overrides, ensure_camus_phantom,  # noqa: E402
                       schedule_overrides, train_and_test, write_table)

AUGS = dict(none='None', thesis='thesis')
#: protocol -> (column name, metric key, thesis table key or None)
COLUMNS = dict(
    camus=[('Pixel accuracy', 'aAcc', None), ('mIoU (4 classes)', 'mIoU',
                                                None),
           ('mRecall (4 classes)', 'mRecall', None),
           ('Dice LV', 'LV_Dice', None), ('mDice', 'mDice', None)],
    thesis=[('Accuracy', 'soft_dice', 'accuracy'),
            ('mIoU', 'mIoU', 'miou'), ('Recall', 'mRecall', 'recall')])


def parse_args(argv=None):
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
    p.add_argument(
        '--protocol',
        choices=list(PROTOCOLS),
        default='camus',
        help='thesis: paper 002\'s binary LV task and schedule; camus: '
        'mmecho\'s 4-class ED/ES benchmark')
    p.add_argument('--aug', choices=['none', 'thesis', 'both'], default='none')
    p.add_argument(
        '--split',
        choices=['official', 'thesis'],
        default='official',
        help='thesis: random 80/10/10 over patients (written to '
        'database_split/thesis_*.txt when missing); --protocol thesis '
        'always uses it')
    p.add_argument('--data-root', help='CAMUS root (default: the configs\')')
    p.add_argument(
        '--phantom',
        action='store_true',
        help='write the CAMUS phantom (seed 0) to --data-root (default '
        'data/camus_phantom) when no release is there, and use it')
    p.add_argument('--phantom-num', type=int, default=30)
    p.add_argument('--work-dir', default='work_dirs/camus_grid')
    p.add_argument('--max-iters', type=int, help='--protocol camus')
    p.add_argument('--max-epochs', type=int, help='--protocol thesis')
    p.add_argument('--val-interval', type=int)
    p.add_argument('--batch-size', type=int)
    p.add_argument('--num-workers', type=int)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='more key=value overrides for every cell')
    p.add_argument(
        '--imagenet',
        nargs='+',
        metavar='DIR|ENC=PATH',
        help='initialise the encoders with ImageNet weights: a folder with '
        'the published file names and/or ENC=PATH pairs (see above)')
    args = p.parse_args(argv)
    if args.protocol == 'thesis':
        args.split = 'thesis'
        if args.max_iters:
            p.error('--protocol thesis counts epochs: use --max-epochs')
    elif args.max_epochs:
        p.error('--protocol camus counts iterations: use --max-iters')
    if args.cells:
        cells = [tuple(c.split(':', 1)) for c in args.cells]
    else:
        cells = [(a, e) for a in (args.archs or list(ARCHITECTURES))
                 for e in (args.encoders or list(ENCODERS))]
    for a, e in cells:
        check_cell(a, e)
    args.cell_list = cells
    args.aug_list = ['none', 'thesis'] if args.aug == 'both' else [args.aug]
    # ImageNet weights: resolved for every cell before anything trains
    args.imagenet_opts = {}
    if args.imagenet:
        try:
            source = parse_imagenet_source(args.imagenet)
            for _, e in cells:
                args.imagenet_opts[e] = imagenet_cfg_options(e, source)
        except (ValueError, FileNotFoundError) as e:
            p.error(str(e))
        if any(e == 'plain' for _, e in cells):
            print(f'note: {NO_IMAGENET}')
    return args


def cell_name(args, arch: str, enc: str, aug: str) -> str:
    """The cell's work-dir name; ImageNet-initialised cells get their own
    (``_imagenet``), so a from-scratch result is never taken for one."""
    tail = '_imagenet' if args.imagenet_opts.get(enc) else ''
    head = 'thesis_' if args.protocol == 'thesis' else ''
    return f'{head}{arch}_{enc}_{aug}{tail}'


def overrides(args, aug: str, enc: str = 'plain'):
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
            ([f'train_cfg.max_epochs={args.max_epochs}']
             if args.max_epochs else []) +
            list(args.imagenet_opts.get(enc, [])) + list(args.cfg_options))


def run_cell(args, arch, enc, aug):
    cell_dir = osp.join(args.work_dir, cell_name(args, arch, enc, aug))
    result_path = osp.join(cell_dir, 'result.json')
    if osp.isfile(result_path):
        print(f'[{arch} x {enc} / {aug}] done before, skipped')
        with open(result_path) as f:
            return json.load(f)
    os.makedirs(cell_dir, exist_ok=True)
    config = leaf_config_path(arch, enc, protocol=args.protocol)
    opts = overrides(args, aug, enc)
    init = args.imagenet_opts.get(enc)
    pretrained = init[0].split('=', 1)[1] if init else None
    log = osp.join(cell_dir, 'grid.log')
    run = train_and_test(
        config, cell_dir, opts, log,
        f'{arch} x {enc} / {aug}' + (' / ImageNet' if pretrained else ''))
    result = dict(
        arch=arch,
        encoder=enc,
        aug=aug,
        protocol=args.protocol,
        config=config,
        checkpoint=run['checkpoint'],
        pretrained=pretrained,
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
    columns = COLUMNS[args.protocol]
    header = ['Architecture', 'Encoder']
    for name, _, ref in columns:
        for a in augs:
            header.append(f'{name} ({label[a]})')
            if ref:
                header += [f'thesis {name} ({label[a]})', f'diff {name} '
                           f'({label[a]})']
    header += ['Params (M)']
    rows = []
    for (arch, enc), cell in by_cell.items():
        enc_name = ENCODERS[enc][0]
        if args.imagenet_opts.get(enc):
            enc_name += ' (ImageNet)'
        row = [ARCHITECTURES[arch], enc_name]
        for _, key, ref in columns:
            for a in augs:
                v = cell.get(a, {}).get('metrics', {}).get(key)
                row.append('' if v is None else f'{v:.3f}')
                if ref:
                    t = thesis_values(arch, enc, label[a]).get(ref)
                    row.append('' if t is None else f'{t:.3f}')
                    row.append('' if v is None or t is None else
                               f'{v - t:+.3f}')
        any_r = next(iter(cell.values()))
        row.append(f'{any_r["params_M"]:.2f}')
        rows.append(row)
    table = write_table(header, rows, osp.join(args.work_dir, 'grid_results'))
    if args.protocol == 'thesis':
        table += ("\nAccuracy = the thesis's soft Dice of the LV; mIoU, "
                  'Recall = means over background and LV; thesis = paper '
                  '002, Tables 1-9; diff = mmecho - thesis')
    return table


def main():
    args = parse_args()
    if args.phantom:
        args.data_root = args.data_root or 'data/camus_phantom'
        ensure_camus_phantom(args.data_root, args.phantom_num)
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
