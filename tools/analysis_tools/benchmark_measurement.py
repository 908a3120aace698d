# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM speed: measurement time per image, excluding the network.

    python tools/analysis_tools/benchmark_measurement.py MEIS_ROOT
        [--config CONFIG --checkpoint CKPT] [--max 40]

Times, per image of ``MEIS_ROOT/Allmode_{train,test}.json`` with its
ground-truth masks as full-size bitmaps (what a model returns): panel
detection + depth-scale reading, and the measurement itself (edges, cycles,
indicators). With a model, also its inference time on the same images
(``inference_detector``: preprocessing, network, post-processing) and the
ratio measurement / inference.
"""
import argparse
import os.path as osp
import time

import cv2
import numpy as np

from mmecho.measurement import (iter_coco_bands, measure_mmode,
                                read_depth_scale_marks)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('root')
    p.add_argument('--config')
    p.add_argument('--checkpoint')
    p.add_argument('--max', type=int, default=40)
    return p.parse_args()


def main():
    args = parse_args()
    items = []
    for split in ('train', 'test'):
        ann = osp.join(args.root, f'Allmode_{split}.json')
        if osp.isfile(ann):
            items += [(osp.join(args.root, 'raw_image',
                                img['file_name']), bands)
                      for img, bands in iter_coco_bands(ann, bitmaps=True)
                      if bands]
    items = items[:args.max]
    images = [cv2.imread(p) for p, _ in items]
    t_cal, t_meas = [], []
    for image, (_, masks) in zip(images, items):
        t = time.perf_counter()
        cm = read_depth_scale_marks(image).cm_per_px
        t_cal.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = measure_mmode(masks, cm, 'depth scale')
        t_meas.append(time.perf_counter() - t)
        assert r.status == 'ok', r.status
    cal, meas = np.mean(t_cal) * 1e3, np.mean(t_meas) * 1e3
    print(f'{len(items)} images (full-size masks)')
    print(f'calibration (panel + depth scale): {cal:7.2f} ms / image')
    print(f'measurement (edges, cycles, values): {meas:7.2f} ms / image')
    print(f'AMEM total, no network:            {cal + meas:7.2f} ms / image')
    if args.config:
        from mmecho.apis import inference_instance_model, init_instance_model
        model = init_instance_model(args.config, args.checkpoint)
        inference_instance_model(model, images[0])  # warm-up
        t = time.perf_counter()
        for image in images:
            inference_instance_model(model, image)
        inf = (time.perf_counter() - t) / len(images) * 1e3
        print(f'model inference ({osp.basename(args.config)}): '
              f'{inf:7.2f} ms / image')
        print(f'AMEM / inference: {(cal + meas) / inf:.3f}')


if __name__ == '__main__':
    main()
