# Copyright (c) mmecho contributors. All rights reserved.
"""How well the annotation content check tells a capture's own annotation
from another capture's (``mmecho.measurement.annotation_check``).

Writes MEIS phantoms (``make_meis_phantom``, one per seed; a quarter of
their screens in the Philips layout, half of those with a model's coloured
masks burned in over the annotated structures) and prints, for the true
pairs and for every pair of an annotation with another image of the same
size and view:

- the lowest score of a true pair, with and without burned-in masks;
- the share of the other pairs below the threshold (0.7), which the check
  flags.

    python tools/analysis_tools/benchmark_annotation_check.py WORK_DIR
        [--num 80] [--seeds 0 1]
"""
import argparse
import os.path as osp

import cv2
import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dir', help='where the phantoms are written')
    p.add_argument('--num', type=int, default=80)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmecho.measurement import iter_coco_bands
    from mmecho.measurement.annotation_check import tissue_brighter_share
    from mmecho.phantoms.meis_phantom import make_meis_phantom
    true_plain, true_masks, other, items = [], [], [], []
    for seed in args.seeds:
        root = osp.join(args.work_dir, f'meis_seed{seed}')
        if not osp.isfile(osp.join(root, 'Allmode_test.json')):
            make_meis_phantom(root, num=args.num, seed=seed)
        for split in ('train', 'test'):
            for info, bands in iter_coco_bands(
                    osp.join(root, f'Allmode_{split}.json')):
                if not bands:
                    continue
                image = cv2.imread(
                    osp.join(root, 'raw_image', info['file_name']))
                # masks were burned in where the screen shows colour
                bgr = image.astype(np.int16)
                colour = (bgr.max(-1) - bgr.min(-1)) > 60
                items.append((image, bands, 'IVS' in bands,
                              colour.mean() > 0.02))
    for i, (image, bands, lv, masks) in enumerate(items):
        share = tissue_brighter_share(image, bands)
        (true_masks if masks else true_plain).append(share)
        for j, (other_image, _, other_lv, _) in enumerate(items):
            if j != i and other_lv == lv and \
                    other_image.shape == image.shape:
                s = tissue_brighter_share(other_image, bands)
                if s is not None:
                    other.append(s)
    other = np.array(other)
    print(f'captures: {len(items)} ({len(true_masks)} with burned-in masks)')
    for name, v in (('plain', true_plain), ('masks burned in', true_masks)):
        v = [x for x in v if x is not None]
        if v:
            print(f'true pairs, {name}: {len(v)}, lowest score '
                  f'{min(v):.3f}, below 0.7: {sum(x < 0.7 for x in v)}')
    if len(other):
        print(f'other pairs (same size and view): {len(other)}, flagged '
              f'(< 0.7): {100 * np.mean(other < 0.7):.1f} %')
    return dict(true_plain=true_plain, true_masks=true_masks, other=other)


if __name__ == '__main__':
    main()
