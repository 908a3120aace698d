# Copyright (c) mmecho contributors. All rights reserved.
"""K-fold cross-validation of CAMUS configs with the RU-Net paper's table.

    python tools/cross_validate.py configs/runet/runet_camus.py --folds 10
    python tools/cross_validate.py configs/runet/unet1_camus.py --folds 3 \
        --data-root data/camus_phantom --max-iters 150 --work-dir WD
    python tools/cross_validate.py configs/runet/{unet1,shg,runet}_camus.py \
        --folds 10 --work-dir work_dirs/runet_study     # Table II in one run

Several configs share the folds and write one table; each model trains in
``WORK_DIR/<config name>/`` (one config: in ``WORK_DIR`` itself).

Folds: the release's ``listSubGroups/subGroup{k}_*.txt`` when present, else
folds stratified on image quality and EF written to ``WORK_DIR/folds.json``
(reused by later runs, so every model of a study sees the same folds; pass
the same ``--folds-file`` to share them between work dirs). Fold ``k`` tests
on group k, validates on group k+1 and trains on the rest, with
``tools/train.py`` / ``tools/test.py``; a finished fold leaves
``fold{k}/result.json`` and is skipped on the next run, an interrupted one
resumes from its checkpoint. Cascades (RU-Net, SHG) are tested on every
output (o1, o2...).

The table (``cv_table.md`` / ``.csv``, printed) has Table II/III's columns
over all test images of all folds: parameters, MAD and HD of the LV
endocardium and epicardium (mean +- SD, mm), and the number and percentage
of geometrical and anatomical outliers (RU-Net Table I criteria).
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys

import numpy as np
from mmengine import Config

from mmecho.datasets import fold_subsets, official_subgroups, stratified_folds
from mmecho.utils import atomic_write_text, count_params

# tools/misc/tool_runs.py: the train / test subprocess helpers
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'misc'))
from tool_runs import (checkpoint_test_command, data_overrides,  # noqa: E402
                       ensure_camus_phantom, pick_checkpoint, run_tool,
                       schedule_overrides, train_command, write_table)


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument(
        'configs',
        nargs='+',
        metavar='CONFIG',
        help='one or more models; several share the folds and one table '
        '(each in WORK_DIR/<config name>)')
    p.add_argument('--folds', type=int, default=10)
    p.add_argument('--data-root', help='CAMUS root (default: the config\'s)')
    p.add_argument(
        '--phantom',
        action='store_true',
        help='write the CAMUS phantom (seed 0) to --data-root (default '
        'data/camus_phantom) when no release is there, and use it')
    p.add_argument('--phantom-num', type=int, default=30)
    p.add_argument('--patients-dir', default='database_nifti')
    p.add_argument('--work-dir')
    p.add_argument(
        '--folds-file',
        help='folds JSON to use or create (default '
        'WORK_DIR/folds.json)')
    p.add_argument('--max-iters', type=int)
    p.add_argument('--val-interval', type=int)
    p.add_argument('--batch-size', type=int)
    p.add_argument('--num-workers', type=int)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--cfg-options', nargs='+', default=[])
    args = p.parse_args()
    names = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    if len(set(names)) != len(names):
        p.error(f'two configs share a file name: {names}')
    default = names[0] if len(names) == 1 else 'study'
    args.work_dir = args.work_dir or osp.join('work_dirs', 'cv', default)
    return args


def fold_splits(args, data_root):
    """Per fold: subset -> split file (absolute path)."""
    official = official_subgroups(data_root, args.folds)
    if official:
        return official, 'listSubGroups'
    path = args.folds_file or osp.join(args.work_dir, 'folds.json')
    if osp.isfile(path):
        with open(path) as f:
            groups = json.load(f)['groups']
        if len(groups) != args.folds:
            raise ValueError(f'{path} holds {len(groups)} folds, '
                             f'--folds is {args.folds}')
    else:
        groups = stratified_folds(data_root, args.folds, args.patients_dir,
                                  args.seed)
        atomic_write_text(
            path,
            json.dumps(
                dict(data_root=data_root, seed=args.seed, groups=groups),
                indent=1))
    out = []
    for k in range(args.folds):
        files = {}
        for subset, ids in fold_subsets(groups, k).items():
            f = osp.abspath(
                osp.join(args.work_dir, 'folds', f'fold{k + 1}_{subset}.txt'))
            atomic_write_text(f, ''.join(i + '\n' for i in ids))
            files[subset] = f
        out.append(files)
    return out, path


def num_outputs(cfg) -> int:
    if cfg.model.type in ('RUNet', 'StackedUNets') or 'stages' in cfg.model:
        return len(cfg.model.stages)
    return 1


def run_fold(args, config, model_dir, k, splits, n_out):
    fold_dir = osp.join(model_dir, f'fold{k + 1}')
    result_path = osp.join(fold_dir, 'result.json')
    if osp.isfile(result_path):
        print(f'[fold {k + 1}] done before, skipped')
        with open(result_path) as f:
            return json.load(f)
    os.makedirs(fold_dir, exist_ok=True)
    opts = (
        data_overrides(args.data_root, splits, args.batch_size,
                       args.num_workers) +
        schedule_overrides(args.max_iters, args.val_interval) +
        [f'randomness.seed={args.seed}'] + list(args.cfg_options))
    log = osp.join(fold_dir, 'cv.log')
    print(f'[fold {k + 1}] training ...', flush=True)
    run_tool(train_command(config, fold_dir, opts), log)
    ckpt = pick_checkpoint(fold_dir)
    outputs = {}
    for o in range(1, n_out + 1):
        metrics_dir = osp.join(fold_dir, f'test_o{o}')
        extra = [f'model.test_cfg.output={o}'] if n_out > 1 else []
        print(f'[fold {k + 1}] testing output o{o} ...', flush=True)
        run_tool(
            checkpoint_test_command(
                config, ckpt, osp.join(fold_dir, f'test_run_o{o}'),
                [f'test_evaluator.output_dir={metrics_dir}'] + opts + extra),
            log)
        outputs[f'o{o}'] = metrics_dir
    result = dict(fold=k + 1, checkpoint=ckpt, outputs=outputs)
    atomic_write_text(result_path, json.dumps(result, indent=1))
    return result


def summarise(rows):
    out = {}
    for s in ('LV', 'EPI'):
        for q in ('MAD', 'HD'):
            v = np.array([float(r[f'{s}_{q}']) for r in rows])
            out[f'{s}_{q}'] = (v.mean(), v.std())
    n = len(rows)
    geo = sum(r['geo_outlier'] == 'True' for r in rows)
    ana = sum(r['ana_outlier'] == 'True' for r in rows)
    out.update(
        n=n,
        geo=geo,
        ana=ana,
        geo_pct=100.0 * geo / max(n, 1),
        ana_pct=100.0 * ana / max(n, 1))
    return out


def model_rows(args, config, model_dir, splits):
    """Train and test ``config`` on every fold (in ``model_dir``) and return
    its table rows, one per output (o1, o2... for cascades)."""
    cfg = Config.fromfile(config)
    n_out = num_outputs(cfg)
    results = [
        run_fold(args, config, model_dir, k, s, n_out)
        for k, s in enumerate(splits)
    ]
    params = count_params(config)
    name = osp.splitext(osp.basename(config))[0]
    table = []
    for o in range(1, n_out + 1):
        rows = []
        for r in results:
            path = osp.join(r['outputs'][f'o{o}'], 'per_image.csv')
            with open(path) as f:
                rows += list(csv.DictReader(f))
        s = summarise(rows)
        label = name + (f' - o{o}' if n_out > 1 else '')
        table.append([
            label, f'{params:.2f}', *[
                f'{s[k][0]:.2f} +- {s[k][1]:.2f}'
                for k in ('LV_MAD', 'LV_HD', 'EPI_MAD', 'EPI_HD')
            ],
            str(s['geo']), f'{s["geo_pct"]:.1f}',
            str(s['ana']), f'{s["ana_pct"]:.1f}',
            str(s['n'])
        ])
    return table


def main():
    args = parse_args()
    if args.phantom:
        args.data_root = args.data_root or 'data/camus_phantom'
        ensure_camus_phantom(args.data_root, args.phantom_num)
    cfg = Config.fromfile(args.configs[0])
    data_root = args.data_root or cfg.test_dataloader.dataset.data_root
    os.makedirs(args.work_dir, exist_ok=True)
    splits, source = fold_splits(args, data_root)
    print(f'{args.folds} folds from {source}')
    header = [
        'Model', 'Prms (M)', 'LV-endo MAD', 'LV-endo HD', 'LV-epi MAD',
        'LV-epi HD', 'geo #', 'geo %', 'ana #', 'ana %', 'images'
    ]
    table = []
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        model_dir = args.work_dir if len(args.configs) == 1 else \
            osp.join(args.work_dir, name)
        if len(args.configs) > 1:
            print(f'== {name}', flush=True)
        table += model_rows(args, config, model_dir, splits)
    print(write_table(header, table, osp.join(args.work_dir, 'cv_table')))


if __name__ == '__main__':
    main()
