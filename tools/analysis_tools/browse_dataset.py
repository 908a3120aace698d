# Copyright (c) mmecho contributors. All rights reserved.
"""Write ground-truth overlays (PNG) for any mmecho dataset config.

    python tools/analysis_tools/browse_dataset.py CONFIG [--out-dir DIR]
        [--split {train,val,test}] [--max N] [--data-root DIR] [--seed S]
        [--cfg-options k=v ...]

The samples are taken from ``{split}_dataloader.dataset`` after its
pipeline, i.e. as the model sees them (random augmentation included for
training; ``--seed`` makes it reproducible, and drawing never consumes the
global random state, so the samples are those the dataset yields). What is
drawn per kind:

* **Instances** (MEIS; ``gt_instances``): masks, boxes and class names by
  the config's ``visualizer`` (mmdet's ``DetLocalVisualizer`` when the
  config has none or another kind).
* **Label maps** (CAMUS frames, M&Ms slices; ``gt_sem_seg``): the label map
  by the config's visualizer (mmseg's ``SegLocalVisualizer`` by default).
* Both are drawn at the **labels' resolution**: the val/test pipelines
  resize (and pad) the image but load the labels afterwards, at the original
  size, for evaluation there; the image is then cut to its resized content
  (``ori_shape * scale_factor``, top left) and resized back to the labels'
  size (the labels' resolution is that of the masks / label map; boxes
  without masks are drawn in the image's frame). Grey (one-channel) images
  are repeated to RGB, three channels are taken as BGR (OpenMMLab's
  loaders). A sample without labels is written as the image alone.
* **Sequences** (``CAMUSSequenceDataset``; ``inputs`` ``(C, T, H, W)``): up
  to four frames side by side, always the first (ED) and the last (ES) and
  evenly spaced ones between, with the labels the network is trained on
  (``labels``, at the network's size and frame rate; ignored pixels are not
  coloured). The caption gives the frame of the original sequence.
* **Frame pairs** (``CAMUSFramePairDataset``, ``MnMsFramePairDataset``):
  the fixed and the moving frame side by side, each with its label map
  when the pair has labels (``has_labels``: both frames labelled);
  otherwise the caption says ``no labels``.

One PNG per sample, named ``{index:04d}_{source}.png`` (index in the
dataset, file name of the source plus frame / slice / pair indices, any
character outside ``[A-Za-z0-9._-]`` replaced), written atomically inside
``--out-dir``. ``--data-root`` points every dataloader and evaluator at
another dataset root (``mmecho.utils.apply_data_root``).
"""
import argparse
import copy
import os
import os.path as osp
import re
import uuid
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmecho.registry import DATASETS, VISUALIZERS
from mmecho.utils import atomic_write, register_all_modules
from mmecho.visualization.label_overlay import (DEFAULT_PALETTE,
                                                image_at_label_resolution,
                                                panel, sequence_frames_to_draw,
                                                side_by_side, to_rgb)

#: default visualisers per 2D sample kind, when the config has none that fits
_DEFAULT_VISUALIZERS = dict(
    det=dict(type='mmdet.DetLocalVisualizer'),
    seg=dict(type='mmseg.SegLocalVisualizer'))


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
    parser.add_argument(
        '--data-root',
        default=None,
        help='dataset root replacing the config\'s in every dataloader and '
        'evaluator')
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='random seed (reproducible training augmentation)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


# -- sample kinds ---------------------------------------------------------
def sample_kind(item: dict) -> str:
    """``'pair'``, ``'sequence'``, ``'det'``, ``'seg'`` or ``'image'``."""
    sample = item['data_samples']
    if isinstance(sample, dict):
        if 'fixed_index' in sample and 'moving_index' in sample:
            return 'pair'
        raise ValueError('unknown sample (a dict without fixed_index / '
                         f'moving_index): keys {sorted(sample)}')
    if item['inputs'].ndim == 4:
        return 'sequence'
    if 'gt_instances' in sample:
        return 'det'
    if 'gt_sem_seg' in sample:
        return 'seg'
    return 'image'


def _safe(name: str, limit: int = 120) -> str:
    name = re.sub(r'[^A-Za-z0-9._-]+', '_', str(name)).strip('._')
    return name[:limit] or 'sample'


def _stem(path: Optional[str]) -> str:
    base = osp.basename(str(path or 'sample'))
    for ext in ('.nii.gz', '.nii', '.mhd', '.raw', '.png', '.jpg', '.jpeg',
                '.bmp', '.tif', '.tiff'):
        if base.lower().endswith(ext):
            return base[:-len(ext)]
    return osp.splitext(base)[0]


def output_name(index: int, item: dict, kind: str) -> str:
    """Unique (by ``index``) file name inside the output folder."""
    sample = item['data_samples']
    if kind == 'pair':
        name = (
            f'{sample.get("key", "pair")}_fixed{int(sample["fixed_index"])}'
            f'_moving{int(sample["moving_index"])}')
    else:
        meta = sample.metainfo
        name = _stem(meta.get('img_path'))
        for key in ('frame_index', 'slice_index'):
            value = meta.get(key)
            if value is not None:
                name += f'_{key[0]}{value}'
    return f'{index:04d}_{_safe(name)}.png'


# -- drawing --------------------------------------------------------------
def _chw_to_hwc(x) -> np.ndarray:
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else \
        np.asarray(x)
    return np.transpose(x, (1, 2, 0)) if x.ndim == 3 else x


def _palette(metainfo: dict) -> list:
    return list(metainfo.get('palette') or DEFAULT_PALETTE)


def _label_shape(sample, kind: str) -> Optional[Tuple[int, int]]:
    """Resolution of the 2D sample's labels (None: the image's)."""
    if kind == 'seg':
        return tuple(sample.gt_sem_seg.data.shape[-2:])
    if kind == 'det':
        masks = sample.gt_instances.get('masks')
        if masks is None:
            return None
        if hasattr(masks, 'height'):
            return int(masks.height), int(masks.width)
        return tuple(np.asarray(masks).shape[-2:])
    return None


def _visualizer(cache: dict, cfg: Config, kind: str, meta: dict):
    """The config's visualiser if it draws ``kind`` samples, else the
    default one; built once per kind, without file backends (the tool
    writes the PNGs itself)."""
    if kind in cache:
        return cache[kind]
    from mmdet.visualization import DetLocalVisualizer
    from mmseg.visualization import SegLocalVisualizer
    wanted = DetLocalVisualizer if kind == 'det' else SegLocalVisualizer
    vis = None
    for vis_cfg in (cfg.get('visualizer'), _DEFAULT_VISUALIZERS[kind]):
        if vis_cfg is None:
            continue
        vis_cfg = copy.deepcopy(dict(vis_cfg))
        vis_cfg.pop('vis_backends', None)
        vis_cfg.pop('save_dir', None)
        # a fresh instance: mmengine returns an existing one by name
        vis_cfg['name'] = f'browse_dataset_{kind}_{uuid.uuid4().hex[:8]}'
        candidate = VISUALIZERS.build(vis_cfg)
        if isinstance(candidate, wanted):
            vis = candidate
            break
    vis.dataset_meta = meta
    cache[kind] = vis
    return vis


def draw_2d(item: dict, kind: str, meta: dict, cfg: Config,
            cache: dict) -> np.ndarray:
    """Instances / label map of a 2D sample at the labels' resolution."""
    sample = item['data_samples']
    rgb = to_rgb(_chw_to_hwc(item['inputs']))
    if kind == 'image':
        return rgb
    shape = _label_shape(sample, kind)
    if shape is not None:
        rgb = image_at_label_resolution(rgb, shape, sample.metainfo)
    sample = sample.clone()
    if kind == 'det':
        gt = sample.gt_instances
        if hasattr(gt.bboxes, 'tensor'):
            gt.bboxes = gt.bboxes.tensor
        if 'masks' in gt and hasattr(gt.masks, 'to_ndarray'):
            gt.masks = gt.masks.to_ndarray().astype(bool)
    vis = _visualizer(cache, cfg, kind, meta)
    # mmdet jitters mask colours with the global numpy generator: keep its
    # state so the augmentation of the next samples does not depend on the
    # drawing (with --seed, the samples are those the dataset yields)
    state = np.random.get_state()
    try:
        vis.add_datasample(
            'browse',
            np.ascontiguousarray(rgb),
            sample,
            draw_gt=True,
            draw_pred=False,
            show=False,
            out_file=None)
    finally:
        np.random.set_state(state)
    return vis.get_image()


def draw_sequence(item: dict, meta: dict) -> np.ndarray:
    """ED, ES and up to two frames between, with the network's labels."""
    sample = item['data_samples']
    x = item['inputs']
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x
    n = x.shape[1]
    labels = sample.get('labels')
    if labels is not None:
        labels = labels.detach().cpu().numpy() if isinstance(
            labels, torch.Tensor) else np.asarray(labels)
    T = int(sample.metainfo.get('num_frames', n))
    palette = _palette(meta)
    panels = []
    for k in sequence_frames_to_draw(n):
        orig = int(round(k * (T - 1) / max(n - 1, 1)))
        tag = 'ED ' if k == 0 else 'ES ' if k == n - 1 else ''
        frame = np.transpose(x[:, k], (1, 2, 0))
        lab = labels[k] if labels is not None else None
        panels.append(
            panel(frame, lab, palette, f'{tag}frame {orig}/{T - 1}')[0])
    return side_by_side(panels)


def draw_pair(item: dict, meta: dict) -> np.ndarray:
    """Fixed | moving, with their label maps when the pair has them."""
    sample = item['data_samples']
    x = item['inputs']
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x
    labels = sample.get('labels')
    has = bool(sample.get('has_labels', False)) and labels is not None
    if has:
        labels = labels.detach().cpu().numpy() if isinstance(
            labels, torch.Tensor) else np.asarray(labels)
    palette = _palette(meta)
    panels = []
    for side, (name, t) in enumerate((('fixed', sample['fixed_index']),
                                      ('moving', sample['moving_index']))):
        caption = f'{name} frame {int(t)}' + ('' if has else '\nno labels')
        panels.append(
            panel(x[side], labels[side] if has else None, palette, caption)[0])
    return side_by_side(panels)


def _write_png(path: str, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError(f'could not encode {path}')
    with atomic_write(path, 'wb') as f:
        f.write(buf.tobytes())


def browse(cfg: Config,
           out_dir: str,
           split: str = 'train',
           max_samples: int = 20,
           seed: Optional[int] = None) -> List[str]:
    """Draw up to ``max_samples`` ground-truth overlays of
    ``{split}_dataloader.dataset``; returns the PNG paths."""
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmecho'))
    if seed is not None:
        from mmengine.runner import set_random_seed
        set_random_seed(seed)
    dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
    meta: Dict = dict(dataset.metainfo)
    os.makedirs(out_dir, exist_ok=True)
    n = max(0, min(int(max_samples), len(dataset)))
    paths, cache = [], {}
    progress = ProgressBar(n)
    for i in range(n):
        item = dataset[i]
        kind = sample_kind(item)
        if kind == 'pair':
            rgb = draw_pair(item, meta)
        elif kind == 'sequence':
            rgb = draw_sequence(item, meta)
        else:
            rgb = draw_2d(item, kind, meta, cfg, cache)
        out_file = osp.join(out_dir, output_name(i, item, kind))
        _write_png(out_file, rgb)
        paths.append(out_file)
        progress.update()
    return paths


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    old_root = cfg.get('data_root')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root is not None:
        from mmecho.utils import apply_data_root
        apply_data_root(cfg, args.data_root, old_root)
    paths = browse(cfg, args.out_dir, args.split, args.max, args.seed)
    print(f'\n{len(paths)} overlays written to {args.out_dir}')


if __name__ == '__main__':
    main()
