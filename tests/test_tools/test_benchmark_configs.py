"""tools/benchmark_configs.py (paper 000's Table 1 in one command): the
options it computes from the configs, and a CPU-sized run on the phantom
that tabulates, resumes and refuses to mix settings."""
import csv
import importlib.util
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest

from ..conftest import ROOT

STUDY = ('simota', 'simota_maiou', 'atss', 'mayolact_upanet80_meis',
         'rtm_assigner_maiou', 'rtm_assigner')


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def tool():
    return _module('benchmark_configs', 'tools/benchmark_configs.py')


@pytest.fixture(scope='module')
def steps(tool):  # importing the tool put tools/misc on sys.path
    import benchmark_steps
    return benchmark_steps


def test_default_configs_are_the_six_cells_with_the_papers_numbers(tool):
    args = tool.parse_args(['--work-dir', 'unused'])
    assert [tool.config_name(c) for c in args.configs] == list(STUDY)
    paper, _ = tool.paper_rows(tool.PAPER_TABLE)
    cells = [tool.cell(c) for c in args.configs]
    assert len(set(cells)) == 6
    # every cell has its paper value; rows in the paper's order
    assert [paper[c]
            for c in cells] == [39.8, 41.94, 44.485, 45.51, 45.58, 45.83]
    assert tool.cell(args.configs[3]) == ('ATSS', 'maIoU')


def test_short_schedule_scales_warmup_and_steps(steps):
    opts = steps.iter_schedule_overrides(
        osp.join(ROOT, 'configs/meis/rtm_assigner.py'), 440)
    # 10-iteration warm-up kept, the x0.1 step at 13k of 22k -> 260 of 440
    assert 'param_scheduler.1.end=440' in opts
    assert 'param_scheduler.1.milestones=[260]' in opts
    assert not any(o.startswith('param_scheduler.0.') for o in opts)
    assert 'default_hooks.checkpoint.interval=440' in opts
    tiny = steps.iter_schedule_overrides(
        osp.join(ROOT, 'configs/meis/rtm_assigner.py'), 2)
    assert 'param_scheduler.0.end=2' in tiny  # warm-up cut to the run
    assert steps.iter_schedule_overrides('unused.py', None) == []


def test_cpu_size_matches_the_demo_config(tool):
    from mmengine.config import Config

    from mmecho.utils import load_config
    opts = tool.cpu_size_overrides(
        osp.join(ROOT, 'configs/meis/rtm_assigner.py'))
    parsed = {}
    for o in opts:
        k, v = o.split('=', 1)
        parsed[k] = eval(v)  # the literals DictAction parses
    cfg = load_config(osp.join(ROOT, 'configs/meis/rtm_assigner.py'), parsed)
    demo = Config.fromfile(
        osp.join(ROOT,
                 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'))
    assert cfg.model.to_dict() == demo.model.to_dict()
    for loader in ('train_dataloader', 'test_dataloader'):
        ours = [dict(s) for s in cfg[loader].dataset.pipeline]
        theirs = [dict(s) for s in demo[loader].dataset.pipeline]
        for a, b in zip(ours, theirs):
            a.pop('backend_args', None)
            b.pop('backend_args', None)
        assert ours == theirs, loader


def test_logged_test_metrics_reads_the_newest_json_log(steps, tmp_path):
    for stamp, value in (('20260101_000000', 0.1), ('20260101_000001', 0.2)):
        os.makedirs(tmp_path / stamp)
        (tmp_path / stamp / f'{stamp}.json').write_text(
            json.dumps({
                'coco/avg_mAP': value,
                'coco/bbox_mAP_copypaste': 'x',
                'time': 1.0
            }))
    assert steps.logged_test_metrics(str(tmp_path), 'coco/') == {
        'coco/avg_mAP': 0.2
    }
    with pytest.raises(SystemExit, match='no test metrics'):
        steps.logged_test_metrics(str(tmp_path / 'none'), 'coco/')


def _run(args):
    return subprocess.run(
        [sys.executable, 'tools/benchmark_configs.py'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900)


@pytest.mark.slow
def test_phantom_table_resume_and_settings_guard(tmp_path):
    data, work = str(tmp_path / 'meis'), str(tmp_path / 'la')
    args = [
        'configs/meis/simota.py', 'configs/meis/mayolact_upanet80_meis.py',
        '--phantom', '--phantom-num', '12', '--data-root', data, '--work-dir',
        work, '--cpu-size', '--max-iters', '2', '--batch-size', '2',
        '--num-workers', '0', '--seed', '0'
    ]
    out = _run(args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert osp.isfile(osp.join(data, 'Allmode_train.json'))  # --phantom
    rows = list(csv.DictReader(open(osp.join(work, 'table.csv'))))
    assert list(rows[0]) == [
        'Config', 'Assigner', 'Overlap', 'bbox mAP (%)', 'segm mAP (%)',
        'Avg-mAP (%)', 'Paper 000 mAP (%)'
    ]
    assert [(r['Config'], r['Assigner'], r['Overlap'])
            for r in rows] == [('simota', 'SimOTA', 'IoU'),
                               ('mayolact_upanet80_meis', 'ATSS', 'maIoU')]
    assert [r['Paper 000 mAP (%)'] for r in rows] == ['39.8', '45.51']
    for r in rows:
        for k in ('bbox mAP (%)', 'segm mAP (%)', 'Avg-mAP (%)'):
            assert math.isfinite(float(r[k])) and 0 <= float(r[k]) <= 100
    assert open(osp.join(work, 'table.md')).read().startswith('| Config |')
    res = json.load(open(osp.join(work, 'results.json')))
    assert res['paper']['rows'][0]['mAP'] == 39.8
    for r in res['results']:
        m = r['metrics']
        assert m['coco/avg_mAP'] == pytest.approx(
            (m['coco/bbox_mAP'] + m['coco/segm_mAP']) / 2, abs=1e-3)
        assert 'randomness.seed=0' in r['cfg_options']
        assert 'model.backbone.width=16' in r['cfg_options']
    # the trained config is CPU-sized and seeded
    dumped = open(osp.join(work, 'simota', 'simota.py')).read()
    assert 'width=16' in dumped and 'seed=0' in dumped
    ckpts = {
        r['name']: os.stat(r['checkpoint']).st_mtime_ns
        for r in res['results']
    }
    log_size = os.stat(osp.join(work, 'benchmark.log')).st_size
    # a second run trains and tests nothing
    again = _run(args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('done before, skipped') == 2
    assert os.stat(osp.join(work, 'benchmark.log')).st_size == log_size
    for r in res['results']:
        assert os.stat(r['checkpoint']).st_mtime_ns == ckpts[r['name']]
    # another seed in the same work dir is refused, not mixed in
    other = _run(args[:-1] + ['1'])
    assert other.returncode != 0
    assert 'other settings' in other.stdout + other.stderr
