# Copyright (c) mmecho contributors. All rights reserved.
"""Parameter counts (millions) of every CAMUS-grid cell as a Markdown table.

    python tools/analysis_tools/grid_params.py [--out FILE.md]
"""
import argparse

from mmengine import Config

from mmecho.apis.camus_grid import ARCHITECTURES, ENCODERS, leaf_config_path
from mmecho.registry import MODELS
from mmecho.utils import atomic_write_text, register_all_modules


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args()
    register_all_modules()
    header = ['Architecture'] + [
        ENCODERS[e][0] if e != 'plain' else 'plain' for e in ENCODERS
    ]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for arch in ARCHITECTURES:
        row = [ARCHITECTURES[arch]]
        for enc in ENCODERS:
            model = MODELS.build(
                Config.fromfile(leaf_config_path(arch, enc)).model)
            row.append(
                f'{sum(p.numel() for p in model.parameters()) / 1e6:.2f}')
            del model
        lines.append('| ' + ' | '.join(row) + ' |')
        print(lines[-1], flush=True)
    table = '\n'.join(lines) + '\n'
    print(table)
    if args.out:
        atomic_write_text(args.out, table)


if __name__ == '__main__':
    main()
