# Copyright (c) mmecho contributors. All rights reserved.
"""Test a checkpoint (as mmdet's / mmseg's tools/test.py).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--show-dir DIR] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher ...] [--trust-checkpoint] [--allow-partial-checkpoint]

The checkpoint is loaded without trusting it, and refused (exit status 1)
when its tensors do not fit the model. ``--data-root`` points every
dataloader and evaluator at another copy of the dataset.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.runner import Runner

from mmecho.engine import (add_checkpoint_args, apply_checkpoint_args,
                           prepare_distributed_cfg, run_tool,
                           shutdown_distributed, verify_checkpoint)
from mmecho.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test a mmecho model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs/metrics')
    parser.add_argument(
        '--data-root',
        help='dataset root for every dataloader and evaluator (default: '
        'the config\'s)')
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
    add_checkpoint_args(parser)
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
    allow_partial = apply_checkpoint_args(args)
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.data_root)
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
        verify_checkpoint(runner.model, args.checkpoint, allow_partial)
        runner.test()
        finished = True
    finally:
        shutdown_distributed(success=finished)


if __name__ == '__main__':
    run_tool(main)
