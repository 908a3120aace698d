# Copyright (c) mmecho contributors. All rights reserved.
"""Pseudo-labels against dense references (paper 001, Fig. 2).

    python tools/analysis_tools/evaluate_pseudo_labels.py DATA_ROOT \
        --pseudo forward=OUT_F backward=OUT_B bidirectional=OUT_BI \
        --out work_dirs/pseudo_eval [--split FILE] \
        [--reference half_sequence_gt] [--reference-root ROOT]

Each ``NAME=ROOT`` is a root written by ``tools/generate_pseudo_labels.py
--out ROOT`` (``ROOT`` = DATA_ROOT for files written beside the data).
Prints the table and writes per_frame.csv, summary.csv/.md and
dice_vs_frame.png under ``--out``.
"""
import argparse

from mmecho.evaluation.pseudo_label_evaluation import (
    evaluate_pseudo_label_roots, write_report)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data_root')
    p.add_argument(
        '--pseudo', nargs='+', required=True, help='NAME=ROOT pairs')
    p.add_argument('--out', required=True)
    p.add_argument('--patients-dir', default='database_nifti')
    p.add_argument('--split')
    p.add_argument('--views', nargs='+', default=['2CH', '4CH'])
    p.add_argument(
        '--reference',
        default='half_sequence_gt',
        help='label-file name of the dense references')
    p.add_argument('--reference-root')
    args = p.parse_args(argv)
    methods = {}
    for item in args.pseudo:
        if '=' not in item:
            p.error(f'--pseudo expects NAME=ROOT, got {item!r}')
        name, root = item.split('=', 1)
        methods[name] = root
    rows = evaluate_pseudo_label_roots(
        args.data_root,
        methods,
        patients_dir=args.patients_dir,
        split=args.split,
        views=args.views,
        reference_name=args.reference,
        reference_root=args.reference_root)
    if not rows:
        raise SystemExit('no frames to evaluate')
    paths = write_report(rows, args.out)
    with open(paths['table'], encoding='utf-8') as f:
        print(f.read())
    print('written:', ', '.join(paths.values()))


if __name__ == '__main__':
    main()
