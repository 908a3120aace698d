# Copyright (c) mmecho contributors. All rights reserved.
"""Write overlays of images and their labels for any mmecho dataset config.

    python tools/analysis_tools/browse_dataset.py CONFIG [--out-dir DIR]
        [--split {train,val,test}] [--max N] [--cfg-options k=v ...]
"""
import argparse
import os
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmecho.registry import DATASETS, VISUALIZERS
from mmecho.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/browse',
        help='folder for the overlays')
    parser.add_argument(
        '--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument(
        '--max', type=int, default=20, help='number of samples to draw')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def browse(cfg: Config,
           out_dir: str,
           split: str = 'train',
           max_samples: int = 20) -> list:
    """Draw up to ``max_samples`` ground-truth overlays; returns paths."""
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmecho'))
    dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(out_dir, exist_ok=True)
    n = min(max_samples, len(dataset))
    paths = []
    progress = ProgressBar(n)
    for i in range(n):
        item = dataset[i]
        img = item['inputs'].permute(1, 2, 0).numpy().astype(np.uint8)
        sample = item['data_samples']
        name = osp.splitext(osp.basename(sample.img_path))[0]
        name = name.replace('.nii', '')
        for key in ('frame_index', 'slice_index'):
            value = sample.metainfo.get(key)
            if value is not None:
                name += f'_{key[0]}{value}'
        out_file = osp.join(out_dir, f'{i:04d}_{name}.png')
        if 'gt_instances' in sample:
            gt = sample.gt_instances
            if hasattr(gt.bboxes, 'tensor'):
                gt.bboxes = gt.bboxes.tensor
            if 'masks' in gt and hasattr(gt.masks, 'to_ndarray'):
                gt.masks = gt.masks.to_ndarray()
        # the visualizers draw on RGB; loaders give BGR (det) or gray
        visualizer.add_datasample(
            name,
            np.ascontiguousarray(img[..., ::-1]),
            sample,
            draw_gt=True,
            draw_pred=False,
            show=False,
            out_file=out_file)
        paths.append(out_file)
        progress.update()
    return paths


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    paths = browse(cfg, args.out_dir, args.split, args.max)
    print(f'\n{len(paths)} overlays written to {args.out_dir}')


if __name__ == '__main__':
    main()
