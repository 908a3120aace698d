# Copyright (c) mmecho contributors. All rights reserved.
"""Write (or check) the leaf configs of the CAMUS benchmark grid: 99 cells
x two protocols (configs/camus: 4-class ED/ES; configs/camus_thesis: the
thesis's binary LV task).

    python tools/misc/generate_camus_grid_configs.py          # write
    python tools/misc/generate_camus_grid_configs.py --check  # exit 1 if stale
"""
import argparse
import os
import os.path as osp
import sys

from mmecho.grid import (ARCHITECTURES, ENCODERS, PROTOCOLS, leaf_config_path,
                         leaf_config_text)
from mmecho.utils import atomic_write_text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='configs')
    parser.add_argument(
        '--check',
        action='store_true',
        help='only report configs that are missing or differ')
    args = parser.parse_args()
    stale = []
    cells = [(a, e, p) for p in PROTOCOLS for a in ARCHITECTURES
             for e in ENCODERS]
    for arch, enc, protocol in cells:
        path = leaf_config_path(arch, enc, args.root, protocol)
        text = leaf_config_text(arch, enc, protocol)
        current = open(path).read() if osp.isfile(path) else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            os.makedirs(osp.dirname(path), exist_ok=True)
            atomic_write_text(path, text)
    verb = 'stale' if args.check else 'written'
    print(f'{len(stale)} of {len(cells)} configs '
          f'{verb}' + ''.join(f'\n  {p}' for p in stale))
    sys.exit(1 if args.check and stale else 0)


if __name__ == '__main__':
    main()
