# Copyright (c) mmecho contributors. All rights reserved.
"""Train a model (as mmdet's / mmseg's tools/train.py).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]
        [--trust-checkpoint] [--allow-partial-checkpoint]

``--data-root`` points every dataloader and evaluator at another copy of
the dataset. A checkpoint given to ``--resume`` or as ``load_from`` is
loaded without trusting it and must fit the model (see
``mmecho.engine.checkpoint``).
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmecho.engine import (add_checkpoint_args, apply_checkpoint_args,
                           prepare_distributed_cfg, run_tool,
                           shutdown_distributed, verify_checkpoint)
from mmecho.utils import load_config, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Train a mmecho model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--data-root',
        help='dataset root for every dataloader and evaluator (default: '
        'the config\'s)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (needs a CUDA GPU)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (xxx=yyy format)')
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


def build_cfg(args) -> Config:
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.data_root)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA GPU; none is visible here.')
        opt = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if opt == 'AmpOptimWrapper':
            print('AMP training is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    prepare_distributed_cfg(cfg, args.launcher)
    return cfg


def main():
    args = parse_args()
    allow_partial = apply_checkpoint_args(args)
    register_all_modules(init_default_scope=False)
    cfg = build_cfg(args)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmecho.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    finished = False
    try:
        if cfg.get('load_from'):
            verify_checkpoint(runner.model, cfg.load_from, allow_partial)
        runner.train()
        finished = True
    finally:
        shutdown_distributed(success=finished)


if __name__ == '__main__':
    run_tool(main)
