# Copyright (c) mmecho contributors. All rights reserved.
"""Run a benchmark command once per seed and report its table as mean +- SD.

    python tools/run_seeds.py --seeds 0 1 2 --work-dir work_dirs/mnms_seeds \\
        --table table.csv -- \\
        python tools/mnms_benchmark.py --phantom --work-dir {work_dir} \\
        --seed {seed}

Everything after ``--`` is the command; ``{seed}`` and ``{work_dir}`` in it
are replaced, per seed, by the seed and by ``WORK_DIR/seed<S>``. The command
must write the CSV table(s) named by ``--table`` (relative to its work
dir), as every mmecho benchmark tool does (``table.csv``, ``grid_results.csv``,
``cv_table.csv``...); several tables are aggregated one by one.

Rows are matched across seeds by their first ``--key-columns`` cells. A
cell that is the same text in every seed is kept as it is (parameter
counts, labels), one that is a number in every seed becomes ``mean +- SD``
(sample SD, n - 1), and any other cell lists the seeds' values separated by `` / ``. A row missing
from some seed, or tables with different headers, are an error naming the
files: nothing is averaged over a subset silently.

Outputs (written atomically), per table ``NAME.csv``: ``WORK_DIR/NAME.md``
and ``NAME.csv`` (the aggregate) and ``WORK_DIR/NAME.seeds.json`` (command,
seeds, every seed's rows and the aggregate). A seed whose run finished (``seed<S>/run_seeds.done`` holds
the same command) is not run again, so an interrupted study resumes.
"""
import argparse
import csv
import io
import json
import math
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

DONE = 'run_seeds.done'


def parse_args(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if '--' not in argv:
        raise SystemExit('run_seeds.py: give the command after "--"')
    cut = argv.index('--')
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--work-dir', required=True)
    p.add_argument(
        '--table',
        nargs='+',
        default=['table.csv'],
        help='CSV table(s) the command writes, relative to its work dir')
    p.add_argument(
        '--key-columns',
        type=int,
        default=1,
        help='leading columns that identify a row (default 1)')
    p.add_argument('--digits', type=int, default=3)
    args = p.parse_args(argv[:cut])
    args.command = argv[cut + 1:]
    if not args.command:
        p.error('the command after "--" is empty')
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f'--seeds repeats a seed: {args.seeds}')
    return args


def seed_command(command: List[str], seed: int, work_dir: str) -> List[str]:
    """``command`` with ``{seed}`` / ``{work_dir}`` replaced in every
    argument."""
    return [
        a.replace('{seed}', str(seed)).replace('{work_dir}', work_dir)
        for a in command
    ]


def read_table(path: str) -> Tuple[List[str], List[List[str]]]:
    """Header and rows of a CSV table; a clear error if it is missing or
    empty."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: the command finished but did not write this table '
            '(check --table)')
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f'{path}: empty table (expected a header row)')
    return rows[0], rows[1:]


def _number(text: str) -> Optional[float]:
    """The cell's number; for a ``mean +- SD`` cell (a tool's own spread
    over images) its mean, whose spread over seeds is then reported (the
    per-image SDs stay in the per-seed values)."""
    text = text.split('+-')[0].strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def aggregate(tables: Dict[int, Tuple[List[str], List[List[str]]]],
              paths: Dict[int, str],
              key_columns: int = 1,
              digits: int = 3) -> Tuple[List[str], List[List[str]]]:
    """Mean +- SD of the seeds' tables, row by row (see the module doc).

    Args:
        tables: seed -> (header, rows) as read by :func:`read_table`.
        paths: seed -> file the table came from (for error messages).
    """
    seeds = list(tables)
    header = tables[seeds[0]][0]
    for s in seeds[1:]:
        if tables[s][0] != header:
            raise ValueError(f'{paths[s]}: header {tables[s][0]} differs '
                             f'from {paths[seeds[0]]}: {header}')
    keyed = {}
    for s in seeds:
        rows = {}
        for r in tables[s][1]:
            key = tuple(r[:key_columns])
            if key in rows:
                raise ValueError(f'{paths[s]}: two rows with key {key}; '
                                 'raise --key-columns')
            rows[key] = r
        keyed[s] = rows
    order = list(keyed[seeds[0]])
    for s in seeds:
        missing = set(order) ^ set(keyed[s])
        if missing:
            raise ValueError(
                f'{paths[s]} and {paths[seeds[0]]} do not have the same '
                f'rows (differing keys: {sorted(missing)})')
    out = []
    for key in order:
        row = list(key)
        for c in range(key_columns, len(header)):
            cells = [keyed[s][key][c] if c < len(keyed[s][key]) else ''
                     for s in seeds]
            values = [_number(x) for x in cells]
            if len(set(cells)) == 1:
                row.append(cells[0])
            elif all(v is not None for v in values):
                mean = sum(values) / len(values)
                sd = math.sqrt(
                    sum((v - mean)**2 for v in values) / (len(values) - 1))
                row.append(f'{mean:.{digits}f} +- {sd:.{digits}f}')
            else:
                row.append(' / '.join(cells))
        out.append(row)
    return header, out


def _write(path: str, text: str) -> None:
    from mmecho.utils import atomic_write_text
    atomic_write_text(path, text)


def write_outputs(work_dir: str, name: str, header, rows, per_seed, command,
                  n_seeds: int) -> str:
    """``name.csv``, ``name.md`` and ``name.seeds.json`` in ``work_dir``."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    _write(osp.join(work_dir, name + '.csv'), buf.getvalue())
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    md += ['| ' + ' | '.join(r) + ' |' for r in rows]
    md.append('')
    md.append(f'mean +- SD over {n_seeds} seeds ({", ".join(per_seed)}); '
              f'per-seed values in {name}.seeds.json')
    text = '\n'.join(md) + '\n'
    _write(osp.join(work_dir, name + '.md'), text)
    _write(
        osp.join(work_dir, name + '.seeds.json'),
        json.dumps(
            dict(
                command=command,
                header=header,
                per_seed=per_seed,
                aggregate=rows),
            indent=1) + '\n')
    return text


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    done_seeds = []
    for seed in args.seeds:
        wd = osp.join(args.work_dir, f'seed{seed}')
        cmd = seed_command(args.command, seed, wd)
        done = osp.join(wd, DONE)
        finished = False
        if osp.isfile(done):
            with open(done) as f:
                finished = json.load(f).get('command') == cmd
        if finished:
            print(f'[seed {seed}] finished before: {wd}', flush=True)
        else:
            os.makedirs(wd, exist_ok=True)
            print(f'[seed {seed}] $ {" ".join(cmd)}', flush=True)
            proc = subprocess.run(cmd)
            if proc.returncode != 0:
                print(
                    f'[seed {seed}] the command failed (exit '
                    f'{proc.returncode}); finished seeds are kept, '
                    're-run to resume',
                    file=sys.stderr)
                return proc.returncode
            _write(done, json.dumps(dict(command=cmd)) + '\n')
        done_seeds.append((seed, wd))
    for table in args.table:
        tables, paths, per_seed = {}, {}, {}
        for seed, wd in done_seeds:
            paths[seed] = osp.join(wd, table)
            tables[seed] = read_table(paths[seed])
            per_seed[str(seed)] = tables[seed][1]
        header, rows = aggregate(tables, paths, args.key_columns,
                                 args.digits)
        name = osp.splitext(osp.basename(table))[0]
        text = write_outputs(args.work_dir, name, header, rows, per_seed,
                             args.command, len(args.seeds))
        print(text)
        print(f'table: {osp.join(args.work_dir, name + ".md")}; per seed: '
              f'{osp.join(args.work_dir, name + ".seeds.json")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
