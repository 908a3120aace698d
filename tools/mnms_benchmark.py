# Copyright (c) mmecho contributors. All rights reserved.
"""Paper 003 on M&Ms in one command: registration, label propagation,
baseline vs proposed U-Net, Dice per region and per vendor (Table 1).

    python tools/mnms_benchmark.py [--data-root data/mnms_phantom] \
        [--info-file mnms_dataset_info.csv] [--phantom] \
        [--reg-config configs/mnms/voxelmorph_mnms-phantom.py] \
        [--reg-checkpoint CKPT] \
        [--unet-config configs/mnms/unet_mnms-phantom.py] \
        [--max-epochs N] [--seed S] [--work-dir work_dirs/mnms_benchmark]

Steps (each one's result is kept under ``--work-dir`` and skipped when the
command is run again, so an interrupted benchmark resumes):

1. train the registration model (``tools/train.py REG_CONFIG``), unless
   ``--reg-checkpoint`` is given;
2. propagate the ED labels of every training slice to the frames up to ES
   (``--mode forward``, as the paper) into ``WORK/pseudo`` and report the
   Dice of the propagated labels at ES against the ES reference;
3. train and test the U-Net on the original ED/ES slices (baseline) and on
   original + propagated frames (proposed);
4. write ``table.md`` / ``table.csv`` (LV, MYO, RV, vendors A-D, Total).

``--phantom`` first writes the M&Ms phantom to ``--data-root`` when it is
missing (8 subjects per split; vendors A and B in training, A-D in test).

``--seed S`` trains the registration model and both U-Nets with
``randomness.seed=S``; the phantom stays the one of seed 0, so runs over
several seeds (``tools/run_seeds.py``) measure the training's variation on
one dataset. A work dir whose finished steps used another seed is refused.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmecho.utils import atomic_write_text

# tools/misc/tool_runs.py: the train / test subprocess helpers
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'misc'))
from tool_runs import (run_tool, train_and_test, train_command,  # noqa: E402
                       write_table)

REGIONS = ('LV', 'MYO', 'RV')
VENDORS = ('A', 'B', 'C', 'D')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', default='data/mnms_phantom')
    p.add_argument('--info-file', default='mnms_dataset_info.csv')
    p.add_argument(
        '--phantom',
        action='store_true',
        help='generate the M&Ms phantom if data-root is missing')
    p.add_argument('--phantom-num', type=int, default=8)
    p.add_argument(
        '--reg-config', default='configs/mnms/voxelmorph_mnms-phantom.py')
    p.add_argument('--reg-checkpoint')
    p.add_argument(
        '--unet-config', default='configs/mnms/unet_mnms-phantom.py')
    p.add_argument(
        '--mode',
        default='forward',
        choices=('forward', 'backward', 'bidirectional'))
    p.add_argument(
        '--max-epochs', type=int, help='U-Net epochs (default: the config)')
    p.add_argument(
        '--reg-max-iters',
        type=int,
        help='registration iterations (default: the config)')
    p.add_argument(
        '--seed',
        type=int,
        help='training seed of the registration model and the U-Nets '
        '(randomness.seed; default: the configs\')')
    p.add_argument('--work-dir', default='work_dirs/mnms_benchmark')
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def _data_opts(args, pseudo_root=None):
    opts = [
        f'{d}.dataset.data_root={args.data_root}'
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ] + [
        f'{d}.dataset.info_file={args.info_file}'
        for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    if pseudo_root:
        opts += [
            'train_dataloader.dataset.pseudo_labels=True',
            f'train_dataloader.dataset.pseudo_label_root={pseudo_root}'
        ]
    return opts


def _done(path, seed=None):
    """A finished step's result; refused when it was trained with another
    seed than ``seed``."""
    if osp.isfile(path):
        with open(path) as f:
            res = json.load(f)
        if res.get('seed') != seed:
            raise SystemExit(
                f'{path} was trained with seed {res.get("seed")}, not '
                f'{seed}: use another --work-dir (one per seed)')
        return res
    return None


def _seed_opts(args):
    return [] if args.seed is None else [f'randomness.seed={args.seed}']


def step_registration(args, log):
    if args.reg_checkpoint:
        return args.reg_checkpoint
    work = osp.join(args.work_dir, 'registration')
    res = _done(osp.join(work, 'result.json'), args.seed)
    if res:
        print('[registration] done before, skipped')
        return res['checkpoint']
    os.makedirs(work, exist_ok=True)
    opts = [
        f'{d}.dataset.data_root={args.data_root}'
        for d in ('train_dataloader', 'val_dataloader')
    ]
    opts += [
        f'{d}.dataset.info_file={args.info_file}'
        for d in ('train_dataloader', 'val_dataloader')
    ]
    if args.reg_max_iters:
        opts += [
            f'train_cfg.max_iters={args.reg_max_iters}',
            f'train_cfg.val_interval={args.reg_max_iters}',
            f'default_hooks.checkpoint.interval={args.reg_max_iters}'
        ]
    opts += _seed_opts(args)
    print('[registration] training ...', flush=True)
    t0 = time.time()
    run_tool(train_command(args.reg_config, work, opts), log)
    with open(osp.join(work, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    atomic_write_text(
        osp.join(work, 'result.json'),
        json.dumps(
            dict(checkpoint=ckpt, seconds=time.time() - t0, seed=args.seed)))
    return ckpt


def step_propagation(args, ckpt):
    from mmecho.registration.pseudo_labels import (MnMsAdapter, Propagation,
                                                   generate_pseudo_labels,
                                                   load_registration_model,
                                                   model_fields_fn)
    out = osp.join(args.work_dir, 'pseudo')
    model, size = load_registration_model(args.reg_config, ckpt, args.device)
    print('[propagation] ED -> ES on the training slices ...', flush=True)
    res = generate_pseudo_labels(
        MnMsAdapter(
            args.data_root, args.info_file, splits=('Training/Labeled', )),
        model_fields_fn(model),
        out,
        propagation=Propagation(
            mode=args.mode,
            size=size,
            num_classes=model.num_classes,
            device=args.device),
        model_info=dict(config=args.reg_config, checkpoint=ckpt),
        progress=True)
    es = {REGIONS[c - 1]: v for c, v in res['es_dice'].items()}
    atomic_write_text(
        osp.join(args.work_dir, 'propagation.json'),
        json.dumps(dict(es_dice=es, mode=args.mode), indent=1))
    print('\n[propagation] Dice at ES vs the ES reference: ' +
          ', '.join(f'{k} {v:.3f}' for k, v in es.items()))
    return out, es


def step_unet(args, arm, config, pseudo_root, log):
    work = osp.join(args.work_dir, arm)
    res = _done(osp.join(work, 'result.json'), args.seed)
    if res:
        print(f'[{arm}] done before, skipped')
        return res
    os.makedirs(work, exist_ok=True)
    opts = _data_opts(args, pseudo_root)
    if args.max_epochs:
        opts.append(f'train_cfg.max_epochs={args.max_epochs}')
    opts += _seed_opts(args)
    res = dict(
        arm=arm, seed=args.seed, **train_and_test(config, work, opts, log,
                                                  arm))
    atomic_write_text(osp.join(work, 'result.json'), json.dumps(res, indent=1))
    return res


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    if args.phantom and not osp.isfile(
            osp.join(args.data_root, args.info_file)):
        from mmecho.phantoms import make_mnms_phantom
        print(f'writing the M&Ms phantom to {args.data_root} ...')
        make_mnms_phantom(args.data_root, num=args.phantom_num, seed=0)
    log = osp.join(args.work_dir, 'benchmark.log')
    ckpt = step_registration(args, log)
    pseudo_root, es = step_propagation(args, ckpt)
    base_cfg = args.unet_config
    results = [
        step_unet(args, 'baseline', base_cfg, None, log),
        step_unet(args, 'proposed', base_cfg, pseudo_root, log)
    ]
    header = ['Method'] + list(REGIONS) + list(VENDORS) + ['Total']
    rows = []
    for r in results:
        m = r['metrics']
        rows.append([r['arm']] + [
            f'{m.get(k, float("nan")):.3f}'
            for k in list(REGIONS) + list(VENDORS) + ['Total']
        ])
    table = write_table(header, rows, osp.join(args.work_dir, 'table'))
    print('\n' + table)
    print('Propagated labels at ES vs the ES reference (training slices): ' +
          ', '.join(f'{k} Dice {v:.3f}' for k, v in es.items()))


if __name__ == '__main__':
    main()
