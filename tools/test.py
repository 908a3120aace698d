# Copyright (c) mmecho contributors. All rights reserved.
"""Test a checkpoint (as mmdet's / mmseg's tools/test.py).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--show-dir DIR] [--cfg-options k=v ...] [--launcher ...]
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.runner import Runner

from mmecho.engine import prepare_distributed_cfg, shutdown_distributed
from mmecho.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test a mmecho model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs/metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump the raw predictions to a pickle file (.pkl)')
    parser.add_argument(
        '--show-dir',
        help='write visualised predictions into this folder (relative to '
        'the timestamped work dir)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualisation(cfg, show_dir):
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise SystemExit('--show-dir needs a "visualization" default hook '
                         '(DetVisualizationHook or SegVisualizationHook) in '
                         'the config.')
    vis = hooks['visualization']
    vis['draw'] = True
    if 'Seg' in vis.get('type', ''):
        # mmseg's hook writes through the visualizer's save_dir
        vis['interval'] = 1
        cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, show_dir)
    else:
        vis['test_out_dir'] = show_dir
    return cfg


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_visualisation(cfg, args.show_dir)
    prepare_distributed_cfg(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('--out must be a .pkl file')
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    finished = False
    try:
        runner.test()
        finished = True
    finally:
        shutdown_distributed(success=finished)


if __name__ == '__main__':
    main()
