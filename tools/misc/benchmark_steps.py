# Copyright (c) mmecho contributors. All rights reserved.
"""Helpers of the one-command paper benchmarks (``tools/benchmark_configs.py``,
``tools/registration_benchmark.py``): resumable steps, ``--cfg-options``
computed from a config (short schedules, input size) and the metrics a
``tools/test.py`` run logged.

Options that change one element of a list (a pipeline step, a parameter
scheduler) are found by reading the config, never by a fixed index, so a
config whose pipeline gains a step still gets the right one. A tool imports
this module after putting ``tools/misc`` on ``sys.path``.
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: ``tools/`` and the repository root, located from this file
TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO_ROOT = osp.dirname(TOOLS_DIR)


def tool_script(*parts: str) -> str:
    """Absolute path of a script under ``tools/``."""
    return osp.join(TOOLS_DIR, *parts)


def repo_path(*parts: str) -> str:
    """Absolute path of a file of the repository (configs, projects)."""
    return osp.join(REPO_ROOT, *parts)


def _load(config: str):
    from mmengine.config import Config
    return Config.fromfile(config)


def _steps(cfg, loader):
    block = cfg.get(loader)
    if not block:
        return []
    return block.get('dataset', {}).get('pipeline', None) or []


def iter_schedule_overrides(config: str,
                            max_iters: Optional[int],
                            val_interval: Optional[int] = None) -> List[str]:
    """``--cfg-options`` that shorten an iteration-based schedule to
    ``max_iters``: validation and a checkpoint every ``val_interval``
    (default: once, at the end), the logger at most every ``max_iters``,
    and every iteration-based parameter scheduler rescaled: one that ends
    with the old schedule ends with the new one, a warm-up longer than the
    new schedule is cut to it, milestones are scaled in proportion.
    ``[]`` when ``max_iters`` is falsy (the config's own schedule)."""
    if not max_iters:
        return []
    cfg = _load(config)
    old = int(cfg.train_cfg.get('max_iters') or max_iters)
    val = val_interval or max_iters
    opts = [
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={val}'
    ]
    hooks = cfg.get('default_hooks') or {}
    if 'checkpoint' in hooks:
        opts.append(f'default_hooks.checkpoint.interval={val}')
    if hooks.get('logger', {}).get('interval', 0) > max_iters:
        opts.append(f'default_hooks.logger.interval={max_iters}')
    scheds = cfg.get('param_scheduler') or []
    if isinstance(scheds, dict):
        raise SystemExit(f'{config}: per-optimizer parameter schedulers are '
                         'not rescaled; give the schedule with --cfg-options')
    for i, s in enumerate(scheds):
        if s.get('by_epoch', True):
            continue
        end = s.get('end')
        if end is not None and (end >= old or end > max_iters):
            opts.append(f'param_scheduler.{i}.end={max_iters}')
        if s.get('milestones'):
            ms = sorted({
                min(max(1, round(m * max_iters / old)), max_iters)
                for m in s['milestones']
            })
            opts.append(f'param_scheduler.{i}.milestones=' +
                        str(ms).replace(' ', ''))
    return opts


def size_overrides(config: str, size: Optional[int]) -> List[str]:
    """``--cfg-options`` that make a model see ``size`` x ``size`` inputs:
    ``size`` of every dataset that has one, ``scale`` of every ``Resize``
    step, the segmentor's ``data_preprocessor.size``, and a B-spline
    registration network's ``grid_spacing`` scaled in proportion to the
    training frames (paper 001 keeps a 16 x 16 control grid: 512 px /
    spacing 32; the phantom 128 px / 8). ``[]`` when ``size`` is falsy."""
    if not size:
        return []
    cfg = _load(config)
    hw = f'({size},{size})'
    opts = []
    model = cfg.get('model') or {}
    if (model.get('data_preprocessor') or {}).get('size') is not None:
        opts.append(f'model.data_preprocessor.size={hw}')
    net = model.get('network') or {}
    if net.get('grid_spacing') is not None:
        old = cfg.train_dataloader.dataset.get('size') or (512, 512)
        spacing = net['grid_spacing'] * size / old[0]
        if spacing != int(spacing) or spacing < 1:
            raise SystemExit(
                f'--size {size}: the B-spline grid spacing of {config} '
                f'({net["grid_spacing"]} px at {old[0]} px) does not scale '
                'to a whole number of pixels; choose a size that is a '
                f'multiple of {old[0] // net["grid_spacing"]}')
        opts.append(f'model.network.grid_spacing={int(spacing)}')
    for loader in LOADERS:
        block = cfg.get(loader)
        if not block:
            continue
        if block.get('dataset', {}).get('size') is not None:
            opts.append(f'{loader}.dataset.size={hw}')
        for i, step in enumerate(_steps(cfg, loader)):
            kind = str(step.get('type', '')).split('.')[-1]
            if kind == 'Resize' and step.get('scale') is not None:
                opts.append(f'{loader}.dataset.pipeline.{i}.scale={hw}')
    return opts


def workers_overrides(config: str, num_workers: Optional[int]) -> List[str]:
    """``--cfg-options`` giving every dataloader of ``config``
    ``num_workers`` worker processes (persistent only when > 0)."""
    if num_workers is None:
        return []
    cfg = _load(config)
    opts = []
    for loader in LOADERS:
        if cfg.get(loader):
            opts += [
                f'{loader}.num_workers={num_workers}',
                f'{loader}.persistent_workers={num_workers > 0}'
            ]
    return opts


def load_json(path: str) -> Optional[dict]:
    """The JSON object in ``path``, or ``None`` when there is no file."""
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return None


def write_json(path: str, obj) -> None:
    from mmecho.utils import atomic_write_text
    atomic_write_text(path, json.dumps(obj, indent=1, default=str) + '\n')


def check_settings(work: str, settings: dict, tag: str) -> None:
    """Record what a step runs with (``work/settings.json``), or refuse to
    go on in a work dir that another setting started: resuming or skipping
    a step trained otherwise would mix two experiments in one table."""
    os.makedirs(work, exist_ok=True)
    path = osp.join(work, 'settings.json')
    before = load_json(path)
    now = json.loads(json.dumps(settings, default=str))
    if before is None:
        write_json(path, now)
    elif before != now:
        changed = sorted(
            k for k in set(before) | set(now) if before.get(k) != now.get(k))
        raise SystemExit(
            f'[{tag}] {work} was started with other settings '
            f'({", ".join(changed)} differ; see {path}): use another '
            f'--work-dir, or delete {work} to run the step again')


def run_script(args: List[str], log_path: str, tag: str) -> None:
    """Run ``python SCRIPT ARGS...`` appending its output to ``log_path``;
    a failure names the step and the log."""
    from tool_runs import run_tool  # tools/misc, beside this file
    try:
        run_tool(args, log_path)
    except RuntimeError as e:
        raise SystemExit(f'[{tag}] {e}') from None


def logged_test_metrics(test_work_dir: str, prefix: str = '') -> Dict:
    """The metrics of the ``tools/test.py`` run in ``test_work_dir``.

    mmengine's ``LoggerHook`` writes them, after the test epoch, to the
    run's JSON log ``<work_dir>/<timestamp>/<timestamp>.json`` (every scalar
    metric, unrounded; the text log has them rounded to 4 digits). The
    newest such file holding a key that starts with ``prefix`` is read;
    give the test run a work dir of its own so no other run's log is found.
    """
    found = []
    for path in glob.glob(osp.join(test_work_dir, '*', '*.json')):
        stamp = osp.basename(osp.dirname(path))
        if osp.splitext(osp.basename(path))[0] != stamp:
            continue
        with open(path) as f:
            text = f.read().strip()
        records = []
        try:
            records = [json.loads(text)]
        except ValueError:  # one JSON object per line
            records = [json.loads(x) for x in text.splitlines() if x.strip()]
        for rec in records:
            if any(k.startswith(prefix) for k in rec):
                found.append((stamp, rec))
    if not found:
        raise SystemExit(
            f'no test metrics{" " + repr(prefix) if prefix else ""} in '
            f'{test_work_dir}/<timestamp>/<timestamp>.json: did tools/test.py '
            'finish?')
    metrics = sorted(found, key=lambda x: x[0])[-1][1]
    return {
        k: v
        for k, v in metrics.items()
        if k.startswith(prefix) and isinstance(v, (int, float))
    }
