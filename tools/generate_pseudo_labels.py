# Copyright (c) mmecho contributors. All rights reserved.
"""Propagate ED / ES labels through the sequences (papers 001 and 003).

    python tools/generate_pseudo_labels.py CONFIG CKPT DATA_ROOT \
        --mode {forward,backward,bidirectional} [--out OUT] [--split FILE] \
        [--views 2CH 4CH] [--strategy {sequential,fixed}] [--device cpu]

    python tools/generate_pseudo_labels.py CONFIG MODEL.onnx DATA_ROOT \
        --backend onnxruntime --mode bidirectional [--out OUT]

    python tools/generate_pseudo_labels.py CONFIG CKPT MNMS_ROOT \
        --dataset mnms --info-file mnms_dataset_info.csv \
        [--splits Training/Labeled] --mode forward [--out OUT]

M&Ms: every short-axis slice is propagated from ED to ES (cyclically) and
written as ``{code}_sa_pseudo.nii.gz`` (4D, 255 outside ED..ES); the Dice of
the propagated labels at ES against the ES reference is printed per region.

Writes ``{patient}_{view}_half_sequence_pseudo.nii.gz`` beside the CAMUS
files, or under ``OUT`` with the same layout, and ``pseudo_labels.json``
(what was made, with which model). Re-running skips recorded files, so an
interrupted run resumes; ``--overwrite`` regenerates.

``--backend onnxruntime`` computes the displacement fields with
onnxruntime from a file written by ``tools/deployment/pytorch2onnx.py``
(its weights; CONFIG still gives the frame size and classes). The
manifest records the ONNX file's SHA-256, so labels of another model or
backend are never mixed into one output. Train on the result
with ``CAMUSDataset(instants='all', sequence_labels='half_sequence_pseudo',
sequence_label_root=OUT)``.
"""
import argparse
import json

from mmecho.engine.checkpoint import (add_checkpoint_args,
                                      apply_checkpoint_args, run_tool)
from mmecho.registration import MODES
from mmecho.registration.pseudo_labels import (CAMUSAdapter, MnMsAdapter,
                                               Propagation,
                                               generate_pseudo_labels,
                                               load_registration_model,
                                               model_fields_fn, model_identity)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='registration model config')
    p.add_argument(
        'checkpoint',
        help='its checkpoint (.pth), or with --backend onnxruntime the '
        'exported .onnx file')
    p.add_argument('data_root', help='CAMUS root')
    p.add_argument('--dataset', choices=('camus', 'mnms'), default='camus')
    p.add_argument(
        '--info-file',
        default='mnms_dataset_info.csv',
        help='M&Ms information CSV, relative to DATA_ROOT')
    p.add_argument('--splits', nargs='+', help='M&Ms split folders')
    p.add_argument('--mode', choices=MODES, default='bidirectional')
    p.add_argument(
        '--out',
        help='separate output root (default: beside '
        'the CAMUS files)')
    p.add_argument('--patients-dir', default='database_nifti')
    p.add_argument('--split', help='split file (relative to DATA_ROOT)')
    p.add_argument('--views', nargs='+', default=['2CH', '4CH'])
    p.add_argument(
        '--strategy', choices=('sequential', 'fixed'), default='sequential')
    p.add_argument(
        '--closing',
        type=int,
        default=5,
        help='closing kernel of the bidirectional fusion (px)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime'),
        default='pytorch',
        help='what computes the displacement fields')
    p.add_argument(
        '--threads',
        type=int,
        help='onnxruntime intra-op threads (default: its own)')
    p.add_argument('--overwrite', action='store_true')
    add_checkpoint_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    allow_partial = apply_checkpoint_args(args)
    if args.backend == 'onnxruntime':
        if not args.checkpoint.endswith('.onnx'):
            raise SystemExit(f'{args.checkpoint}: --backend onnxruntime '
                             'expects the exported .onnx file')
        from mmecho.deployment.onnxruntime_backend import onnx_fields_fn
        model, size = load_registration_model(args.config, None, 'cpu')
        fields_fn = onnx_fields_fn(args.checkpoint, num_threads=args.threads)
    else:
        model, size = load_registration_model(args.config, args.checkpoint,
                                              args.device, allow_partial)
        fields_fn = model_fields_fn(model)
    propagation = Propagation(
        mode=args.mode,
        size=size,
        strategy=args.strategy,
        num_classes=model.num_classes,
        closing_kernel=args.closing,
        batch_size=args.batch_size,
        device=args.device)
    if args.dataset == 'mnms':
        adapter = MnMsAdapter(
            args.data_root, args.info_file, splits=args.splits)
    else:
        adapter = CAMUSAdapter(
            args.data_root,
            patients_dir=args.patients_dir,
            split=args.split,
            views=args.views)
    summary = generate_pseudo_labels(
        adapter,
        fields_fn,
        args.out,
        propagation=propagation,
        overwrite=args.overwrite,
        model_info=model_identity(args.config, args.checkpoint))
    if args.dataset == 'mnms':
        names = ('LV', 'MYO', 'RV')
        print('\nDice of the propagated labels at ES vs the ES reference: ' +
              ', '.join(f'{names[c - 1] if c <= 3 else c} {v:.3f}'
                        for c, v in summary['es_dice'].items()))
    fps = summary['frames'] / max(summary['seconds'], 1e-9)
    print(f'\nwrote {summary["written"]} sequences ({summary["frames"]} '
          f'frames, {fps:.1f} frames/s), skipped {summary["skipped"]} '
          f'already done; manifest: {summary["manifest"]}')
    print(json.dumps({k: summary[k] for k in ('written', 'skipped')}))


if __name__ == '__main__':
    run_tool(main)
