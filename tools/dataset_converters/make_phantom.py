# Copyright (c) mmecho contributors. All rights reserved.
"""Generate a phantom dataset in the real on-disk format.

    python tools/dataset_converters/make_phantom.py {meis,camus,mnms} OUT_DIR
        [--num N] [--seed S] [--release {nifti,mhd}] [--uncompressed]
        [--format {jpg,dcm}] [--style {vendor,classic}]   (meis)
"""
import argparse
import time

from mmecho.phantoms import make_phantom


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('name', choices=['meis', 'camus', 'mnms'])
    parser.add_argument('out_dir')
    parser.add_argument(
        '--num',
        type=int,
        default=None,
        help='images (meis), patients (camus) or subjects '
        'per split (mnms)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--release',
        choices=['nifti', 'mhd'],
        default='nifti',
        help='CAMUS release format')
    parser.add_argument(
        '--uncompressed',
        action='store_true',
        help='CAMUS NIfTI as .nii instead of .nii.gz')
    parser.add_argument(
        '--format',
        choices=['jpg', 'dcm'],
        default='jpg',
        help='MEIS: JPEG screen captures, or ultrasound DICOM with the '
        'M-mode region (cm and s per pixel)')
    parser.add_argument(
        '--style',
        choices=['vendor', 'classic'],
        default='vendor',
        help='MEIS: a random vendor-like screen per image, or one fixed '
        'layout')
    args = parser.parse_args()
    kwargs = dict(seed=args.seed)
    if args.num is not None:
        kwargs['num'] = args.num
    if args.name == 'meis':
        kwargs.update(image_format=args.format, style=args.style)
    if args.name == 'camus':
        kwargs.update(release=args.release, compress=not args.uncompressed)
    start = time.time()
    make_phantom(args.name, args.out_dir, **kwargs)
    print(f'{args.name} phantom written to {args.out_dir} in '
          f'{time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
