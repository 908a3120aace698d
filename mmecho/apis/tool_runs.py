# Copyright (c) mmecho contributors. All rights reserved.
"""Helpers for tools that drive ``tools/train.py`` / ``tools/test.py`` cell
by cell or fold by fold (``tools/benchmark_grid.py``,
``tools/cross_validate.py``)."""
import csv
import glob
import io
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def data_overrides(data_root: Optional[str] = None,
                   splits: Optional[Dict[str, str]] = None,
                   batch_size: Optional[int] = None,
                   num_workers: Optional[int] = None) -> List[str]:
    """``--cfg-options`` for the three dataloaders: CAMUS root, split files
    (``{'training': path, 'validation': ..., 'testing': ...}``), training
    batch size and workers."""
    opts = []
    if data_root:
        opts += [f'{d}.dataset.data_root={data_root}' for d in LOADERS]
    if splits:
        for d, s in zip(LOADERS, ('training', 'validation', 'testing')):
            opts.append(f'{d}.dataset.split={splits[s]}')
    if batch_size:
        opts.append(f'train_dataloader.batch_size={batch_size}')
    if num_workers is not None:
        for d in LOADERS:
            opts += [
                f'{d}.num_workers={num_workers}',
                f'{d}.persistent_workers={num_workers > 0}'
            ]
    return opts


def schedule_overrides(max_iters: Optional[int] = None,
                       val_interval: Optional[int] = None) -> List[str]:
    """Shorten an iteration-based schedule (first param scheduler ends with
    it; a checkpoint at every validation)."""
    if not max_iters:
        return []
    val = val_interval or max_iters
    return [
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={val}',
        f'param_scheduler.0.end={max_iters}',
        f'default_hooks.checkpoint.interval={val}'
    ]


def run_tool(args: List[str], log_path: str) -> None:
    """Run ``python tools/...`` from the repository root, appending its
    output to ``log_path``; raise with the log's path when it fails."""
    cmd = [sys.executable] + list(args)
    with open(log_path, 'a') as log:
        log.write('$ ' + ' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=log)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(args[:2])} failed (exit '
                           f'{proc.returncode}); see {log_path}')


def train_command(config: str, work_dir: str, opts: List[str]) -> List[str]:
    """``tools/train.py`` arguments, resuming when ``work_dir`` holds a
    checkpoint of an interrupted run."""
    cmd = ['tools/train.py', config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')
    return cmd + ['--cfg-options'] + list(opts)


def pick_checkpoint(work_dir: str) -> str:
    """The best checkpoint saved by ``save_best`` if any, else the last."""
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if best:
        return best[-1]
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_and_test(config: str, work_dir: str, opts: List[str], log: str,
                   tag: str) -> dict:
    """Train ``config`` in ``work_dir`` with ``tools/train.py`` (resuming
    an interrupted run), test the best (else last) checkpoint with
    ``tools/test.py``, its evaluator writing ``summary.json`` to
    ``work_dir/test_metrics``; both with ``opts`` as ``--cfg-options``.
    Progress lines start with ``[tag]``.

    Returns:
        dict: ``config``, ``checkpoint``, ``train_seconds``,
        ``test_seconds``, ``metrics`` (the summary).
    """
    import json
    import time
    print(f'[{tag}] training ...', flush=True)
    t0 = time.time()
    run_tool(train_command(config, work_dir, opts), log)
    train_s = time.time() - t0
    ckpt = pick_checkpoint(work_dir)
    metrics_dir = osp.join(work_dir, 'test_metrics')
    print(f'[{tag}] testing {osp.basename(ckpt)} ...', flush=True)
    t0 = time.time()
    run_tool([
        'tools/test.py', config, ckpt, '--work-dir',
        osp.join(work_dir, 'test'), '--cfg-options',
        f'test_evaluator.output_dir={metrics_dir}'
    ] + list(opts), log)
    test_s = time.time() - t0
    with open(osp.join(metrics_dir, 'summary.json')) as f:
        metrics = json.load(f)
    return dict(
        config=config,
        checkpoint=ckpt,
        train_seconds=train_s,
        test_seconds=test_s,
        metrics=metrics)


def count_params(config: str) -> float:
    """Parameters (millions) of a config's model."""
    from mmengine import Config

    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    return sum(p.numel() for p in model.parameters()) / 1e6


def write_table(header: List[str], rows: List[List[str]],
                path_stem: str) -> str:
    """Write ``path_stem.csv`` and ``path_stem.md`` (atomically) and return
    the Markdown table."""
    from mmecho.utils import atomic_write_text
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path_stem + '.csv', buf.getvalue())
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    md += ['| ' + ' | '.join(r) + ' |' for r in rows]
    atomic_write_text(path_stem + '.md', '\n'.join(md) + '\n')
    return '\n'.join(md)
