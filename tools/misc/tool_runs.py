# Copyright (c) mmecho contributors. All rights reserved.
"""Helpers for tools that drive ``tools/train.py`` / ``tools/test.py`` cell
by cell or fold by fold (``tools/benchmark_grid.py``,
``tools/cross_validate.py``, ``tools/mnms_benchmark.py``).

The scripts are found beside this file's folder (``tools/``), so the
helpers work from any working directory; they run in the caller's working
directory, so relative paths (configs, data, work dirs) mean what they mean
to the calling tool. A tool imports this module after putting
``tools/misc`` on ``sys.path``.
"""
import csv
import glob
import io
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: ``tools/train.py`` and ``tools/test.py``, located from this file
TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN_SCRIPT = osp.join(TOOLS_DIR, 'train.py')
TEST_SCRIPT = osp.join(TOOLS_DIR, 'test.py')


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
    """Run ``python SCRIPT ARGS...`` (``args[0]``: a script path, e.g. of
    :func:`train_command`), appending its output to ``log_path``; raise
    with the log's path when it fails."""
    cmd = [sys.executable] + list(args)
    with open(log_path, 'a') as log:
        log.write('$ ' + ' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=log)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(args[:2])} failed (exit '
                           f'{proc.returncode}); see {log_path}')


def train_command(config: str, work_dir: str, opts: List[str]) -> List[str]:
    """``tools/train.py`` arguments, resuming when ``work_dir`` holds a
    checkpoint of an interrupted run."""
    cmd = [TRAIN_SCRIPT, config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')
    return cmd + ['--cfg-options'] + list(opts)


def checkpoint_test_command(config: str, checkpoint: str, work_dir: str,
                            opts: List[str]) -> List[str]:
    """``tools/test.py`` arguments: ``config``, ``checkpoint``, its work dir
    and ``opts`` as ``--cfg-options``."""
    return [
        TEST_SCRIPT, config, checkpoint, '--work-dir', work_dir,
        '--cfg-options'
    ] + list(opts)


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
    run_tool(
        checkpoint_test_command(config, ckpt, osp.join(work_dir, 'test'),
                                [f'test_evaluator.output_dir={metrics_dir}'] +
                                list(opts)), log)
    test_s = time.time() - t0
    with open(osp.join(metrics_dir, 'summary.json')) as f:
        metrics = json.load(f)
    return dict(
        config=config,
        checkpoint=ckpt,
        train_seconds=train_s,
        test_seconds=test_s,
        metrics=metrics)


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


def ensure_camus_phantom(data_root: str, num: int = 30) -> None:
    """Write the CAMUS phantom (seed 0, ``num`` patients) to ``data_root``
    unless a CAMUS release or phantom is already there (``database_nifti/``
    or ``database_split/``); the tools' ``--phantom``."""
    if any(
            osp.isdir(osp.join(data_root, d))
            for d in ('database_nifti', 'database_split')):
        return
    from mmecho.phantoms import make_camus_phantom
    print(f'writing the CAMUS phantom ({num} patients) to {data_root} ...',
          flush=True)
    make_camus_phantom(data_root, num=num, seed=0)
