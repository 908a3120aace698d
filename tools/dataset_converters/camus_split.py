# Copyright (c) mmecho contributors. All rights reserved.
"""Write the thesis split of a CAMUS root (random 80/10/10 over patients).

    python tools/dataset_converters/camus_split.py data/camus [--seed 0]
"""
import argparse

from mmecho.datasets import thesis_split_files, write_thesis_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root')
    parser.add_argument('--patients-dir', default='database_nifti')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--ratios', type=float, nargs=3, default=(0.8, 0.1, 0.1))
    parser.add_argument('--prefix', default='thesis')
    args = parser.parse_args()
    split = write_thesis_split(args.data_root, args.patients_dir, args.ratios,
                               args.seed, args.prefix)
    for subset, rel in thesis_split_files(args.prefix).items():
        print(f'{rel}: {len(split[subset])} patients')


if __name__ == '__main__':
    main()
