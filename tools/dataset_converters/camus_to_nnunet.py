# Copyright (c) mmecho contributors. All rights reserved.
"""Export CAMUS (with pseudo-labels) as an nnU-Net v2 raw dataset.

    python tools/dataset_converters/camus_to_nnunet.py DATA_ROOT OUT \
        --dim {2d,3d} --labels {sparse,pseudo,gt} [--label-root ROOT] \
        [--id 501] [--name CAMUSPseudo] [--split FILE] [--test-split FILE]

OUT is nnU-Net's ``nnUNet_raw`` folder; then ``nnUNetv2_plan_and_preprocess
-d 501`` and ``nnUNetv2_train 501 3d_fullres 0`` as paper 001 did.
"""
import argparse

from mmecho.datasets.camus.nnunet_export import (LABEL_SOURCES,
                                                 export_camus_to_nnunet)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data_root')
    p.add_argument('out', help="nnU-Net's nnUNet_raw folder")
    p.add_argument('--dim', choices=('2d', '3d'), default='3d')
    p.add_argument('--labels', choices=LABEL_SOURCES, default='pseudo')
    p.add_argument('--label-root', help='root of the pseudo-label files')
    p.add_argument('--id', type=int, default=501)
    p.add_argument('--name', default='CAMUS')
    p.add_argument('--patients-dir', default='database_nifti')
    p.add_argument('--split', help='training patients (split file)')
    p.add_argument('--test-split', help='test patients (imagesTs)')
    p.add_argument('--views', nargs='+', default=['2CH', '4CH'])
    p.add_argument('--time-spacing', type=float, default=1.0)
    args = p.parse_args(argv)
    res = export_camus_to_nnunet(
        args.data_root,
        args.out,
        dataset_id=args.id,
        name=args.name,
        dim=args.dim,
        labels=args.labels,
        label_root=args.label_root,
        patients_dir=args.patients_dir,
        split=args.split,
        test_split=args.test_split,
        views=args.views,
        time_spacing=args.time_spacing)
    print(f'{res["folder"]}: {res["num_training"]} training cases, '
          f'{res["num_test"]} test cases')


if __name__ == '__main__':
    main()
