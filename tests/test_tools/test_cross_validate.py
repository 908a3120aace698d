"""tools/cross_validate.py: stratified folds written down, every fold
trained and tested, both RU-Net outputs tabulated, finished folds skipped."""
import csv
import json
import os.path as osp
import subprocess
import sys

import pytest

from ..conftest import ROOT

# end-to-end: trains models; `make test-fast` leaves these out
pytestmark = pytest.mark.slow


def test_three_fold_runet(camus_root, tmp_path):
    work = str(tmp_path / 'cv')
    args = [
        sys.executable, 'tools/cross_validate.py',
        'configs/runet/runet_camus.py', '--folds', '3', '--data-root',
        camus_root, '--max-iters', '1', '--batch-size', '2', '--num-workers',
        '0', '--work-dir', work
    ]
    out = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    folds = json.load(open(osp.join(work, 'folds.json')))['groups']
    assert sorted(p for g in folds
                  for p in g) == [f'patient000{i}' for i in range(1, 5)]
    rows = list(csv.DictReader(open(osp.join(work, 'cv_table.csv'))))
    assert [r['Model']
            for r in rows] == ['runet_camus - o1', 'runet_camus - o2']
    for r in rows:
        assert int(r['images']) == 4 * 4  # every patient tested once
        assert 0 <= int(r['geo #']) <= 16 and 0 <= int(r['ana #']) <= 16
        assert '+-' in r['LV-endo MAD']
    again = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0
    assert again.stdout.count('done before, skipped') == 3
