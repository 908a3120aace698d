"""tools/benchmark_grid.py trains, tests, tabulates and resumes."""
import csv
import json
import os.path as osp
import subprocess
import sys

from ..conftest import ROOT


def _run(args):
    return subprocess.run(
        [sys.executable, 'tools/benchmark_grid.py'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900)


def test_grid_tool_table_and_resume(camus_root, tmp_path):
    work = str(tmp_path / 'grid')
    args = [
        '--cells', 'linknet:mbv2', '--data-root', camus_root, '--split',
        'thesis', '--max-iters', '2', '--batch-size', '2', '--num-workers',
        '0', '--aug', 'both', '--work-dir', work
    ]
    out = _run(args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # the thesis split was written beside the official one
    for s in ('training', 'validation', 'testing'):
        assert osp.isfile(
            osp.join(camus_root, 'database_split', f'thesis_{s}.txt'))
    rows = list(csv.DictReader(open(osp.join(work, 'grid_results.csv'))))
    assert len(rows) == 1
    row = rows[0]
    assert row['Architecture'] == 'LinkNet'
    assert row['Encoder'] == 'MobileNetV2'
    for col in ('Accuracy', 'mIoU', 'Recall', 'Dice LV'):
        for variant in ('initial', 'augmented'):
            assert 0.0 <= float(row[f'{col} ({variant})']) <= 1.0
    md = open(osp.join(work, 'grid_results.md')).read()
    assert '| LinkNet | MobileNetV2 |' in md
    result = json.load(
        open(osp.join(work, 'linknet_mbv2_thesis', 'result.json')))
    assert result['metrics']['aAcc'] == float(row['Accuracy (augmented)']) \
        or abs(result['metrics']['aAcc'] -
               float(row['Accuracy (augmented)'])) < 5e-4
    # per-image metrics at original resolution were written by the metric
    assert osp.isfile(
        osp.join(work, 'linknet_mbv2_none', 'test_metrics', 'per_image.csv'))
    # a second run finds the finished cells and does not train again
    again = _run(args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('done before, skipped') == 2
