# Copyright (c) mmecho contributors. All rights reserved.
"""tools/run_seeds.py: a command run per seed, its table as mean +- SD."""
import csv
import json
import os.path as osp
import sys

import pytest

from tools.run_seeds import main

# A stand-in benchmark: writes table.csv whose numbers depend on the seed,
# and appends a line to calls.txt beside the work dirs on every run.
FAKE = r'''
import csv, os, sys
seed, wd, rows = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(wd, exist_ok=True)
with open(os.path.join(os.path.dirname(wd), 'calls.txt'), 'a') as f:
    f.write(f'{seed}\n')
with open(os.path.join(wd, 'table.csv'), 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['model', 'Dice', 'note', 'params', 'MAD'])
    w.writerow(['unet', seed * 0.1, 'seed%d' % seed, '1.95',
                '%d.00 +- 9.00' % seed])
    if rows == 'both' or seed == 0:
        w.writerow(['linknet', 2 * seed, 'same', '4.3', '1.00 +- 0.50'])
'''


def _run(tmp_path, seeds, rows='both'):
    fake = tmp_path / 'fake.py'
    fake.write_text(FAKE)
    wd = tmp_path / 'study'
    code = main(['--seeds'] + [str(s) for s in seeds] +
                ['--work-dir', str(wd), '--', sys.executable, str(fake),
                 '{seed}', '{work_dir}', rows])
    return code, wd


def test_mean_and_sample_sd(tmp_path):
    code, wd = _run(tmp_path, [0, 1, 2])
    assert code == 0
    with open(wd / 'table.csv', newline='') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['model', 'Dice', 'note', 'params', 'MAD']
    # Dice 0, 0.1, 0.2: mean 0.1, sample SD 0.1; 0, 2, 4: mean 2, SD 2;
    # a tool's own 'mean +- SD' cell: the seeds' means 0, 1, 2 -> 1 +- 1
    assert rows[1] == ['unet', '0.100 +- 0.100', 'seed0 / seed1 / seed2',
                       '1.95', '1.000 +- 1.000']
    assert rows[2] == ['linknet', '2.000 +- 2.000', 'same', '4.3',
                       '1.00 +- 0.50']
    per_seed = json.loads((wd / 'table.seeds.json').read_text())['per_seed']
    assert per_seed['2'][0][1] == '0.2'
    assert 'over 3 seeds' in (wd / 'table.md').read_text()


def test_finished_seeds_are_not_run_again(tmp_path):
    _run(tmp_path, [0, 1])
    code, wd = _run(tmp_path, [0, 1, 2])
    assert code == 0
    calls = (wd / 'calls.txt').read_text().split()
    assert calls == ['0', '1', '2']


def test_a_row_missing_in_one_seed_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='do not have the same rows'):
        _run(tmp_path, [0, 1], rows='some')


def test_missing_table_names_the_file(tmp_path):
    wd = tmp_path / 'w'
    with pytest.raises(FileNotFoundError, match='other.csv'):
        main(['--seeds', '0', '--work-dir', str(wd), '--table', 'other.csv',
              '--', sys.executable, '-c', 'pass'])
    assert not osp.isfile(wd / 'table.csv')
