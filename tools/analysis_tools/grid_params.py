# Copyright (c) mmecho contributors. All rights reserved.
"""Parameter counts (millions) of every CAMUS-grid cell as a Markdown table.

    python tools/analysis_tools/grid_params.py [--out FILE.md]
"""
import argparse

from mmecho.apis.camus_grid import ARCHITECTURES, ENCODERS, leaf_config_path
from mmecho.apis.tool_runs import count_params
from mmecho.utils import atomic_write_text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args()
    header = ['Architecture'] + [
        ENCODERS[e][0] if e != 'plain' else 'plain' for e in ENCODERS
    ]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for arch in ARCHITECTURES:
        row = [ARCHITECTURES[arch]]
        for enc in ENCODERS:
            row.append(f'{count_params(leaf_config_path(arch, enc)):.2f}')
        lines.append('| ' + ' | '.join(row) + ' |')
        print(lines[-1], flush=True)
    table = '\n'.join(lines) + '\n'
    print(table)
    if args.out:
        atomic_write_text(args.out, table)


if __name__ == '__main__':
    main()
