"""tools/registration_benchmark.py (paper 001 in one command): the options
it computes, and the whole chain on the CAMUS phantom at a tiny schedule,
both tables, and a second run that redoes nothing."""
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

STRUCTURES = ('LV', 'MYO', 'LA')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'registration_benchmark',
        osp.join(ROOT, 'tools/registration_benchmark.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_defaults_sizes_and_pseudo_label_roots(tool):
    import benchmark_steps  # on sys.path once the tool is imported
    args = tool.parse_args(['--phantom', '--device', 'cpu'])
    assert args.data_root == 'data/camus_phantom'
    assert [osp.basename(c) for c in args.seg_configs] == [
        'unet2d_sparse_camus-phantom.py', 'unet2d_dense_camus-phantom.py',
        'unet3d_dense_camus-phantom.py'
    ]
    real = tool.parse_args(['--data-root', 'data/camus', '--device', 'cpu'])
    assert osp.basename(real.reg_config) == 'bspline_dlir_camus.py'
    with pytest.raises(SystemExit):
        tool.parse_args([])  # neither data nor --phantom
    # the 16 x 16 B-spline control grid is kept at any size
    reg = benchmark_steps.size_overrides(args.reg_config, 64)
    assert 'model.network.grid_spacing=4' in reg
    assert 'train_dataloader.dataset.size=(64,64)' in reg
    assert 'model.network.grid_spacing=8' in benchmark_steps.size_overrides(
        real.reg_config, 128)
    with pytest.raises(SystemExit, match='grid spacing'):
        benchmark_steps.size_overrides(args.reg_config, 60)
    seg = benchmark_steps.size_overrides(args.seg_configs[0], 64)
    assert 'model.data_preprocessor.size=(64,64)' in seg
    assert 'train_dataloader.dataset.pipeline.2.scale=(64,64)' in seg
    # which model trains on the pseudo-labels, through which key
    sparse, dense, seq = (
        tool.dense_label_overrides(c, 'P') for c in args.seg_configs)
    assert sparse == []
    assert dense == ['train_dataloader.dataset.sequence_label_root=P']
    assert seq == ['train_dataloader.dataset.label_root=P']


def _run(args):
    return subprocess.run(
        [sys.executable, 'tools/registration_benchmark.py'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900)


@pytest.mark.slow
def test_phantom_chain_tables_and_resume(camus_root, tmp_path):
    work = str(tmp_path / 'reg')
    args = [
        '--phantom', '--data-root', camus_root, '--work-dir', work, '--size',
        '64', '--reg-iters', '2', '--seg-iters', '2', '--num-workers', '0',
        '--seed', '0', '--device', 'cpu'
    ]
    out = _run(args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    pseudo = list(csv.DictReader(open(osp.join(work, 'pseudo_labels.csv'))))
    assert [r['Mode']
            for r in pseudo] == ['forward', 'backward', 'bidirectional']
    for r in pseudo:
        for s in STRUCTURES:
            assert 0 <= float(r[f'{s} Dice']) <= 1
            assert math.isfinite(float(r[f'{s} HD (mm)']))
            assert math.isfinite(float(r[f'{s} MAD (mm)']))
    models = list(csv.DictReader(open(osp.join(work, 'table.csv'))))
    assert [r['Model']
            for r in models] == ['2D sparse', '2D dense', '3D (2D+time)']
    for r in models:
        for s in STRUCTURES:
            for k in (f'{s} ED Dice', f'{s} ES Dice'):
                assert 0 <= float(r[k]) <= 1
            assert math.isfinite(float(r[f'{s} smooth (cm^4)']))
        # EF needs an LV at ED and ES in both views: a 2-iteration model
        # may predict none (nan), otherwise a finite error
        ef = float(r['EF MAE'])
        assert math.isnan(ef) or ef >= 0
    res = json.load(open(osp.join(work, 'results.json')))
    assert set(res['pseudo_labels']['summary']) == {
        'forward', 'backward', 'bidirectional'
    }
    for m in res['models']:
        assert 'randomness.seed=0' in m['cfg_options']
        assert m['metrics']['n_sequences'] > 0
    # the dense models trained on this run's bidirectional pseudo-labels
    pseudo_root = osp.join(work, 'pseudo', 'bidirectional')
    assert f'train_dataloader.dataset.sequence_label_root={pseudo_root}' \
        in res['models'][1]['cfg_options']
    assert f'train_dataloader.dataset.label_root={pseudo_root}' \
        in res['models'][2]['cfg_options']
    # the registration trained at 64 px with the scaled grid
    reg_cfg = open(res['registration']['trained_config']).read()
    assert 'grid_spacing=4' in reg_cfg
    stamps = [
        res['registration']['checkpoint'],
        osp.join(work, 'pseudo', 'bidirectional', 'pseudo_labels.json'),
        osp.join(work, 'pseudo_eval', 'summary.csv')
    ] + [m['checkpoint'] for m in res['models']]
    before = {p: os.stat(p).st_mtime_ns for p in stamps}
    log_size = os.stat(osp.join(work, 'benchmark.log')).st_size
    again = _run(args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('done before, skipped') == 8
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == before
    assert os.stat(osp.join(work, 'benchmark.log')).st_size == log_size
    assert list(csv.DictReader(open(osp.join(work, 'table.csv')))) == models
