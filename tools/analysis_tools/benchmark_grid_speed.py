# Copyright (c) mmecho contributors. All rights reserved.
"""Training and inference throughput (images/s) of CAMUS-grid cells, beside
the same networks built by segmentation_models_pytorch (smp) 0.6.0.

    python tools/analysis_tools/benchmark_grid_speed.py
        [--cells unet:r34 deeplabv3plus:effb3 linknet:mbv2 fpn:r50]
        [--batch 8] [--size 256] [--rounds 5] [--iters 2] [--warmup 1]
        [--device cpu] [--threads N] [--peer {auto,smp,none}]

Each cell (``ARCH:ENC``, keys of ``mmecho.grid``) is built from
its leaf config (``MODELS.build(cfg.model)``, ``init_weights()``) and, as the
peer, by ``smp.create_model(ARCH, ENCODER, encoder_weights=None, classes=4,
in_channels=3)`` (r18/r34/r50/r101 -> resnet18/34/50/101, mbv2 ->
mobilenet_v2, effbN -> efficientnet-bN; the plain encoder has no peer).

Both run as plain networks on the same synthetic ``--batch`` x 3 x
``--size`` x ``--size`` input: mmecho's as ``model(x, mode='tensor')`` (the
decode head's logits, resized bilinearly to the input size where smaller;
no data preprocessor, no post-processing). A training step is forward +
cross-entropy against a fixed random label map + backward + Adam step (the
same loss for both, not the configs' CE + Dice); inference is the forward in
eval mode without gradients. After ``--warmup`` untimed iterations of each,
``--rounds`` rounds alternate one timed block of ``--iters`` iterations of
mmecho with one of smp (A, B, A, B, ...), so that load from other processes
falls on both; throughputs come from the median block, and the ratios are
mmecho's median time over smp's (below 1: mmecho is faster). The output is
a Markdown table, then a summary: the geometric mean of the ratios, the cells
above 1.10x with the range of their per-round ratios (mmecho's block over the
smp block next to it), and how far those vary. The header gives the load
average: on a shared machine the figures move by tens of percent between runs
(one cell measured 1.01x, 1.34x and 1.12x in inference), so read a ratio
near 1 only from a quiet run.

smp is not an mmecho dependency: ``--peer auto`` (the default) compares
when ``import segmentation_models_pytorch`` works and otherwise prints
mmecho's figures alone. Install it (``pip install
segmentation-models-pytorch==0.6.0``) or put an install on the path:

    PYTHONPATH=/path/to/smp_site python \\
        tools/analysis_tools/benchmark_grid_speed.py --threads 2

smp's EfficientNet encoders keep the classifier's ``_conv_head``/``_bn1``,
unused by segmentation (0.59 M parameters for b3), so its parameter count
is higher there for the same network.
"""
import argparse
import logging
import os
import os.path as osp
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

DEFAULT_CELLS = ['unet:r34', 'deeplabv3plus:effb3', 'linknet:mbv2', 'fpn:r50']

# grid encoder key -> smp encoder name
SMP_ENCODERS = {
    'r18': 'resnet18',
    'r34': 'resnet34',
    'r50': 'resnet50',
    'r101': 'resnet101',
    'mbv2': 'mobilenet_v2',
    **{
        f'effb{i}': f'efficientnet-b{i}'
        for i in range(8)
    },
}

PEER_HELP = ('install segmentation-models-pytorch==0.6.0 (not an mmecho '
             'dependency) or put an install on PYTHONPATH, e.g. '
             'PYTHONPATH=/path/to/smp_site python '
             'tools/analysis_tools/benchmark_grid_speed.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--cells',
        nargs='+',
        default=DEFAULT_CELLS,
        metavar='ARCH:ENC',
        help='grid cells, e.g. unet:r34 (default: %(default)s)')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--size', type=int, default=256)
    p.add_argument(
        '--rounds',
        type=int,
        default=5,
        help='timed blocks of each model, interleaved')
    p.add_argument(
        '--iters', type=int, default=2, help='iterations per timed block')
    p.add_argument(
        '--warmup',
        type=int,
        default=1,
        help='untimed iterations of each model before timing')
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads (default: leave torch\'s)')
    p.add_argument(
        '--peer',
        choices=['auto', 'smp', 'none'],
        default='auto',
        help='compare with segmentation_models_pytorch: when importable '
        '(auto), always (smp: an error when missing) or never (none)')
    args = p.parse_args(argv)
    if args.rounds < 1 or args.iters < 1 or args.warmup < 0:
        p.error('--rounds and --iters must be >= 1, --warmup >= 0')
    return args


def load_peer(mode):
    """The smp module, or None (with a line saying why) for ``none`` and
    for ``auto`` without smp."""
    if mode == 'none':
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import segmentation_models_pytorch as smp
    except Exception as e:  # ImportError, or a broken torchvision
        if mode == 'smp':
            raise SystemExit(f'--peer smp: cannot import '
                             f'segmentation_models_pytorch ({e}); '
                             f'{PEER_HELP}')
        print(f'peer smp unavailable ({type(e).__name__}: {e}); mmecho '
              f'figures only. To compare: {PEER_HELP}')
        return None
    return smp


def sync(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def n_params(model):
    return sum(p.numel() for p in model.parameters()) / 1e6


def build_mmecho(arch, enc, device):
    from mmengine import Config
    from mmengine.logging import MMLogger

    from mmecho.grid import leaf_config_path
    from mmecho.registry import MODELS
    cfg = Config.fromfile(
        leaf_config_path(arch, enc, root=osp.join(ROOT, 'configs')))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg.model)
    # init_weights() logs one INFO record per parameter
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    model.to(device)

    def net(x):
        return model(x, mode='tensor')

    return model, net


def build_smp(smp, arch, enc, device):
    if smp is None or enc not in SMP_ENCODERS:
        return None, None
    model = smp.create_model(
        arch,
        SMP_ENCODERS[enc],
        encoder_weights=None,
        classes=4,
        in_channels=3).to(device)
    return model, model


def train_step(net, opt, x, y):
    logits = net(x)
    if logits.shape[-2:] != x.shape[-2:]:
        logits = F.interpolate(
            logits, size=x.shape[-2:], mode='bilinear', align_corners=False)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def infer_step(net, x):
    net(x)


def time_interleaved(runs, args, device):
    """``runs``: list of zero-argument step functions (A, B). Warm each up,
    then ``--rounds`` x (A block, B block). Returns per-run lists of the
    seconds per iteration of each block."""
    for step in runs:
        for _ in range(args.warmup):
            step()
    sync(device)
    times = [[] for _ in runs]
    for _ in range(args.rounds):
        for k, step in enumerate(runs):
            sync(device)
            t0 = time.perf_counter()
            for _ in range(args.iters):
                step()
            sync(device)
            times[k].append((time.perf_counter() - t0) / args.iters)
    return times


def bench_cell(arch, enc, smp, args, device):
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    y = torch.randint(0, 4, (args.batch, args.size, args.size), device=device)
    models, nets = [], []
    m, net = build_mmecho(arch, enc, device)
    models.append(m)
    nets.append(net)
    m, net = build_smp(smp, arch, enc, device)
    if m is not None:
        models.append(m)
        nets.append(net)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-4) for m in models]
    res = dict(params=[n_params(m) for m in models])

    for m in models:
        m.train()
    steps = [(lambda n=n, o=o: train_step(n, o, x, y))
             for n, o in zip(nets, opts)]
    res['train_rounds'] = time_interleaved(steps, args, device)
    res['train'] = [statistics.median(t) for t in res['train_rounds']]
    for m in models:
        m.eval()
    steps = [(lambda n=n: infer_step(n, x)) for n in nets]
    with torch.no_grad():
        res['infer_rounds'] = time_interleaved(steps, args, device)
    res['infer'] = [statistics.median(t) for t in res['infer_rounds']]
    del models, nets, opts
    return res


def fmt_row(cells):
    return '| ' + ' | '.join(cells) + ' |'


def main(argv=None):
    args = parse_args(argv)
    from mmecho.grid import ARCHITECTURES, ENCODERS, check_cell
    from mmecho.utils import register_all_modules
    cells = []
    for cell in args.cells:
        arch, sep, enc = cell.partition(':')
        if not sep:
            raise SystemExit(f'--cells {cell}: expected ARCH:ENC, e.g. '
                             'unet:r34')
        check_cell(arch, enc)
        cells.append((arch, enc))
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    register_all_modules()
    smp = load_peer(args.peer)
    peer = smp is not None
    device = torch.device(args.device)
    load = ''
    if hasattr(os, 'getloadavg'):
        load = (f', load average {os.getloadavg()[0]:.1f} on '
                f'{os.cpu_count()} CPUs')
    print(f'device {args.device}, {torch.get_num_threads()} threads, '
          f'batch {args.batch}, {args.size}x{args.size}, '
          f'{args.rounds} rounds x {args.iters} iterations '
          f'(+{args.warmup} warm-up), torch {torch.__version__}' +
          (f', smp {smp.__version__}' if peer else '') + load)
    print('train: forward + CE + backward + Adam; infer: eval, no_grad '
          'forward; img/s of the median block' +
          ('; ratio: mmecho time / smp time' if peer else ''))
    print()
    if peer:
        head = [
            'architecture', 'encoder', 'params M mmecho', 'params M smp',
            'train img/s mmecho', 'train img/s smp', 'infer img/s mmecho',
            'infer img/s smp', 'train ratio', 'infer ratio'
        ]
    else:
        head = [
            'architecture', 'encoder', 'params M', 'train img/s', 'infer img/s'
        ]
    print(fmt_row(head))
    print(fmt_row(['---'] * 2 + ['---:'] * (len(head) - 2)), flush=True)
    results = []
    for arch, enc in cells:
        try:
            r = bench_cell(arch, enc, smp, args, device)
        except (RuntimeError, ValueError) as e:  # e.g. BN on one value
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(
                fmt_row([ARCHITECTURES[arch], ENCODERS[enc][0]] +
                        [f'failed: {msg}'] + ['-'] * (len(head) - 3)),
                flush=True)
            continue
        ips = {k: [args.batch / t for t in r[k]] for k in ('train', 'infer')}
        row = [ARCHITECTURES[arch], ENCODERS[enc][0]]
        if not peer:
            row += [
                f'{r["params"][0]:.2f}', f'{ips["train"][0]:.2f}',
                f'{ips["infer"][0]:.2f}'
            ]
        elif len(r['params']) == 1:  # no smp peer for this cell
            row += [
                f'{r["params"][0]:.2f}', '-', f'{ips["train"][0]:.2f}', '-',
                f'{ips["infer"][0]:.2f}', '-', '-', '-'
            ]
        else:
            ratio = {k: r[k][0] / r[k][1] for k in ('train', 'infer')}
            # mmecho / smp of each round's adjacent blocks: their spread
            # shows how much load from other processes moved the figures
            paired = {
                k: [a / b for a, b in zip(*r[f'{k}_rounds'])]
                for k in ('train', 'infer')
            }
            results.append((arch, enc, ratio, paired))
            row += [
                f'{r["params"][0]:.2f}', f'{r["params"][1]:.2f}',
                f'{ips["train"][0]:.2f}', f'{ips["train"][1]:.2f}',
                f'{ips["infer"][0]:.2f}', f'{ips["infer"][1]:.2f}',
                f'{ratio["train"]:.2f}x', f'{ratio["infer"]:.2f}x'
            ]
        print(fmt_row(row), flush=True)
    print()
    if not peer:
        print(f'{len(cells)} cell(s), mmecho only')
        return
    if not results:
        print('no cell has an smp peer')
        return
    summary = []
    for k in ('train', 'infer'):
        vals = [res[k] for _, _, res, _ in results]
        gmean = statistics.geometric_mean(vals)
        slow = [
            f'{a}:{e} {res[k]:.2f}x (rounds {min(pr[k]):.2f}x-'
            f'{max(pr[k]):.2f}x)' for a, e, res, pr in results if res[k] > 1.10
        ]
        summary.append(f'{k}: geometric mean {gmean:.2f}x, range '
                       f'{min(vals):.2f}x-{max(vals):.2f}x, above 1.10x: ' +
                       (', '.join(slow) if slow else 'none'))
    print(f'summary over {len(results)} cell(s) with an smp peer '
          f'(mmecho time / smp time):')
    for line in summary:
        print('- ' + line)
    spread = max(
        max(pr[k]) / min(pr[k]) for _, _, _, pr in results
        for k in ('train', 'infer'))
    print(f'- per-round ratios (adjacent blocks) vary up to {spread:.2f}-'
          'fold within a cell' +
          (': a ratio nearer 1 than that may be load from other processes; '
           'rerun on a quiet machine' if spread > 1.10 else ''))


if __name__ == '__main__':
    main()
