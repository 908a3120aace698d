# Copyright (c) mmecho contributors. All rights reserved.
"""Compare mmecho's converted grid networks with smp's outputs.

    python tools/model_converters/smp_parity.py [FIXTURE.pt | DIR ...] \
        [--json OUT.json] [--rtol 1e-4]

Each fixture (``tools/model_converters/make_smp_parity_fixtures.py``;
default: ``tests/data/smp/``) holds smp's state dict, an input and smp's
eval-mode logits. Here its state dict is converted by
``smp2mmecho.convert`` for the cell's leaf config (CAMUS protocol, plus the
fixture's ``cfg_options``), loaded strictly, and the network
(``model._forward``: encoder + decode head, logits) is run on the input in
eval mode. Printed per fixture: max |mmecho - smp|, max |smp| (the output's
scale) and their ratio; the exit status is 1 if a ratio exceeds ``--rtol``
or a conversion fails.
"""
import argparse
import glob
import importlib.util
import json
import os.path as osp
import sys
import time

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
DEFAULT_DIR = osp.join(ROOT, 'tests', 'data', 'smp')
RTOL = 1e-4


def _converter():
    spec = importlib.util.spec_from_file_location(
        'smp2mmecho', osp.join(HERE, 'smp2mmecho.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


conv = _converter()


def load_fixture(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def build_and_convert(fix: dict, src: str = ''):
    """The fixture's mmecho model (eval) with the converted weights loaded
    strictly, and the conversion report."""
    arch, enc = fix['cell'].split(':')
    config = conv.config_for(arch, enc, 'camus')
    model, _ = conv.build_model(config, fix['cfg_options'] or None)
    sd, report = conv.convert(fix['state_dict'], arch, enc, model, src,
                              config)
    model.load_state_dict(sd, strict=True)
    return model.eval(), report


@torch.no_grad()
def parity(fix: dict, src: str = '') -> dict:
    model, report = build_and_convert(fix, src)
    out = model._forward(fix['input'])
    ref = fix['output']
    if out.shape != ref.shape:
        raise conv.ConversionError(
            f'{src}: mmecho output {tuple(out.shape)} vs smp '
            f'{tuple(ref.shape)}')
    diff = (out - ref).abs().max().item()
    scale = ref.abs().max().item()
    return dict(
        name=fix['name'],
        cell=fix['cell'],
        input=list(fix['input'].shape),
        max_abs_diff=diff,
        max_abs_smp=scale,
        rel=diff / scale,
        dropped_unused=report['dropped_unused'],
        tensors=report['mapped'])


def _paths(items):
    out = []
    for item in items:
        if osp.isdir(item):
            out += sorted(glob.glob(osp.join(item, '*.pt')))
        else:
            out.append(item)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('fixtures', nargs='*', default=[DEFAULT_DIR])
    parser.add_argument('--json', help='write the rows here')
    parser.add_argument('--rtol', type=float, default=RTOL)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows, failed = [], 0
    print(f'{"fixture":28s} {"cell":20s} {"input":>9s} {"max|diff|":>10s} '
          f'{"max|smp|":>9s} {"ratio":>9s}  tensors (+dropped)')
    for path in _paths(args.fixtures):
        t0 = time.time()
        fix = load_fixture(path)
        try:
            row = parity(fix, path)
        except (conv.ConversionError, RuntimeError) as e:
            print(f'{fix.get("name", path):28s} FAILED: {e}')
            failed += 1
            continue
        row['seconds'] = round(time.time() - t0, 2)
        unused = set(fix.get('unused', []))
        if set(row['dropped_unused']) != unused:
            print(f'{row["name"]:28s} dropped tensors differ from the '
                  f'fixture\'s unused ones: '
                  f'{sorted(set(row["dropped_unused"]) ^ unused)[:5]}')
            failed += 1
        ok = row['rel'] <= args.rtol
        failed += not ok
        size = 'x'.join(str(s) for s in row['input'][2:])
        print(f'{row["name"]:28s} {row["cell"]:20s} {size:>9s} '
              f'{row["max_abs_diff"]:10.3g} {row["max_abs_smp"]:9.3g} '
              f'{row["rel"]:9.2g}  {row["tensors"]} '
              f'(+{len(row["dropped_unused"])})' + ('' if ok else '  FAIL'),
              flush=True)
        row['dropped_unused'] = len(row['dropped_unused'])
        rows.append(row)
    if args.json:
        from mmecho.utils import atomic_write_text
        atomic_write_text(args.json, json.dumps(rows, indent=1) + '\n')
    print(f'{len(rows)} compared, {failed} failed (ratio limit '
          f'{args.rtol:g})')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
