# Copyright (c) mmecho contributors. All rights reserved.
"""Trainable parameters of every CAMUS-grid cell.

    python tools/analysis_tools/grid_params.py [--out FILE.md] [--json OUT.json]
        [--cells unet:r34 fpn:r50 ...]

Prints a Markdown table (millions, architecture x encoder). ``--json`` writes
``{"arch:enc": trainable_params}`` (exact counts), with arch in unet,
unetplusplus, manet, linknet, fpn, pspnet, pan, deeplabv3, deeplabv3plus and
enc in r18, r34, r50, r101, mbv2, effb0, effb1, effb3, effb5, effb7, plain.
"""
import argparse
import json


def count_trainable(config: str) -> int:
    """Parameters with ``requires_grad`` of a config's model."""
    from mmengine import Config

    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main(argv=None):
    from mmecho.grid import ARCHITECTURES, ENCODERS, leaf_config_path
    from mmecho.utils import atomic_write_text
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='also write the Markdown table here')
    parser.add_argument('--json', help='write {"arch:enc": params} here')
    parser.add_argument('--cells', nargs='+', metavar='ARCH:ENC')
    args = parser.parse_args(argv)
    cells = [tuple(c.split(':')) for c in args.cells] if args.cells else [
        (a, e) for a in ARCHITECTURES for e in ENCODERS
    ]
    for a, e in cells:
        if a not in ARCHITECTURES or e not in ENCODERS:
            parser.error(f'unknown cell {a}:{e}')
    counts = {}
    for a, e in cells:
        counts[f'{a}:{e}'] = count_trainable(leaf_config_path(a, e))
    encs = [e for e in ENCODERS if any(c[1] == e for c in cells)]
    header = ['Architecture'] + [
        ENCODERS[e][0] if e != 'plain' else 'plain' for e in encs
    ]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for a in ARCHITECTURES:
        if not any(c[0] == a for c in cells):
            continue
        row = [ARCHITECTURES[a]] + [
            f'{counts[f"{a}:{e}"] / 1e6:.2f}' if f'{a}:{e}' in counts else ''
            for e in encs
        ]
        lines.append('| ' + ' | '.join(row) + ' |')
    table = '\n'.join(lines) + '\n'
    print(table)
    if args.out:
        atomic_write_text(args.out, table)
    if args.json:
        atomic_write_text(args.json, json.dumps(counts, indent=1) + '\n')
    return counts


if __name__ == '__main__':
    main()
