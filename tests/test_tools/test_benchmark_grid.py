"""tools/benchmark_grid.py trains, tests, tabulates and resumes."""
import csv
import json
import os.path as osp
import subprocess
import sys

import pytest

from ..conftest import ROOT

# end-to-end: trains models; `make test-fast` leaves these out
pytestmark = pytest.mark.slow


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
    # honest names: pixel accuracy is not the thesis's "Accuracy"
    for col in ('Pixel accuracy', 'mIoU (4 classes)', 'mRecall (4 classes)',
                'Dice LV'):
        for variant in ('initial', 'augmented'):
            assert 0.0 <= float(row[f'{col} ({variant})']) <= 1.0
    md = open(osp.join(work, 'grid_results.md')).read()
    assert '| LinkNet | MobileNetV2 |' in md
    result = json.load(
        open(osp.join(work, 'linknet_mbv2_thesis', 'result.json')))
    assert 'Accuracy (augmented)' not in row
    assert abs(result['metrics']['aAcc'] -
               float(row['Pixel accuracy (augmented)'])) < 5e-4
    # per-image metrics at original resolution were written by the metric
    assert osp.isfile(
        osp.join(work, 'linknet_mbv2_none', 'test_metrics', 'per_image.csv'))
    # a second run finds the finished cells and does not train again
    again = _run(args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('done before, skipped') == 2


def test_thesis_protocol_table_beside_the_thesis_values(camus_root, tmp_path):
    work = str(tmp_path / 'thesis_grid')
    out = _run([
        '--protocol', 'thesis', '--cells', 'unet:plain', '--data-root',
        camus_root, '--max-epochs', '1', '--batch-size', '2',
        '--num-workers', '0', '--aug', 'both', '--work-dir', work
    ])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = list(csv.DictReader(open(osp.join(work, 'grid_results.csv'))))
    assert len(rows) == 1
    row = rows[0]
    assert (row['Architecture'], row['Encoder']) == ('U-Net', '-')
    # paper 002, Table 1, the U-Net row without encoder
    thesis = {
        ('Accuracy', 'initial'): 0.821,
        ('Accuracy', 'augmented'): 0.831,
        ('mIoU', 'initial'): 0.850,
        ('mIoU', 'augmented'): 0.873,
        ('Recall', 'initial'): 0.910,
        ('Recall', 'augmented'): 0.920
    }
    for (col, arm), value in thesis.items():
        ours = float(row[f'{col} ({arm})'])
        assert 0.0 <= ours <= 1.0
        assert float(row[f'thesis {col} ({arm})']) == value
        assert float(row[f'diff {col} ({arm})']) == pytest.approx(
            ours - value, abs=1.5e-3)
    result = json.load(
        open(osp.join(work, 'thesis_unet_plain_none', 'result.json')))
    assert result['protocol'] == 'thesis'
    assert result['config'].endswith('unet_camus-thesis.py')
    assert float(row['Accuracy (initial)']) == pytest.approx(
        result['metrics']['soft_dice'], abs=5e-4)
    # one image per patient of the test split (frame 2, 2CH)
    tested = open(osp.join(camus_root, 'database_split',
                           'thesis_testing.txt')).read().split()
    assert result['metrics']['num_images'] == len(tested)
    assert float(row['Params (M)']) == pytest.approx(1.95, abs=0.005)


def test_protocols_count_their_own_schedule_units(camus_root, tmp_path):
    out = _run(['--protocol', 'thesis', '--cells', 'unet:plain',
                '--max-iters', '3', '--work-dir', str(tmp_path)])
    assert out.returncode != 0 and '--max-epochs' in out.stderr
    out = _run(['--cells', 'unet:plain', '--max-epochs', '3',
                '--work-dir', str(tmp_path)])
    assert out.returncode != 0 and '--max-iters' in out.stderr
