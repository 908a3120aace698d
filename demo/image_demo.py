# Copyright (c) mmecho contributors. All rights reserved.
"""Draw an instance model's masks, boxes and labels on M-mode images.

    python demo/image_demo.py IMAGE [IMAGE ...] CONFIG [--weights CKPT]
        [--out-dir outputs/vis] [--score-thr 0.3] [--device cpu]
"""
import argparse
import os
import os.path as osp

import mmcv
from mmdet.visualization import DetLocalVisualizer

from mmecho.apis import inference_instance_model, init_instance_model
from mmecho.engine.checkpoint import (add_checkpoint_args,
                                      apply_checkpoint_args, run_tool)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('config', help='model config')
    parser.add_argument('--weights', help='checkpoint file')
    parser.add_argument('--out-dir', default='outputs/vis')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    add_checkpoint_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    allow_partial = apply_checkpoint_args(args)
    model = init_instance_model(
        args.config, args.weights, args.device, allow_partial=allow_partial)
    vis = DetLocalVisualizer(name='mmecho_image_demo')
    vis.dataset_meta = model.dataset_meta
    os.makedirs(args.out_dir, exist_ok=True)
    for path in args.images:
        if not osp.isfile(path):
            raise SystemExit(f'{path}: no such image file')
        result = inference_instance_model(model, path)
        image = mmcv.imread(path, channel_order='rgb')
        out_file = osp.join(args.out_dir, osp.basename(path))
        vis.add_datasample(
            osp.basename(path),
            image,
            result,
            draw_gt=False,
            show=False,
            pred_score_thr=args.score_thr,
            out_file=out_file)
        inst = result.pred_instances
        keep = inst.scores >= args.score_thr
        names = [
            model.dataset_meta['classes'][i]
            for i in inst.labels[keep].tolist()
        ]
        print(f'{path}: {int(keep.sum())} instances {names} -> {out_file}')


if __name__ == '__main__':
    run_tool(main)
