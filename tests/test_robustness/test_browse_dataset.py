"""tools/analysis_tools/browse_dataset.py on every split of every dataset
kind, on the phantoms (issue 15, point 5: "browse everything").

The probe found val/test crashing for MEIS, CAMUS and M&Ms (labels loaded
at the original size after the image was resized), every M&Ms split
crashing (a grey image reached the RGB visualiser), and no drawing at all for
sequences and frame pairs. Each case checks the PNGs written (count, unique
names inside the output folder, readable, 3 channels, size) and their
content: the pixels of every labelled structure of the first panel carry
that structure's palette colour, background pixels stay grey, and a pair
without labels is drawn without label colours. The reference labels come
from the same dataset built again under the same seed.
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

from mmecho.visualization.label_overlay import DEFAULT_PALETTE, PANEL_GAP

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'browse_dataset.py')
SEED = 0
MAX = 2

MEIS = 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'
CAMUS_FRAMES = 'configs/camus/fcn_unet-tiny_camus-phantom.py'
CAMUS_ALL_FRAMES = 'configs/temporal/unet2d_sparse_camus-phantom.py'
CAMUS_SEQUENCES = 'configs/temporal/unet3d_dense_camus-phantom.py'
MNMS = 'configs/mnms/unet_mnms-phantom.py'
CAMUS_PAIRS = 'configs/registration/bspline_dlir_camus-phantom.py'
MNMS_PAIRS = 'configs/mnms/voxelmorph_mnms-phantom.py'
ROOTS = {
    MEIS: 'meis_root',
    CAMUS_FRAMES: 'camus_root',
    CAMUS_ALL_FRAMES: 'camus_root',
    CAMUS_SEQUENCES: 'camus_root',
    MNMS: 'mnms_root',
    CAMUS_PAIRS: 'camus_root',
    MNMS_PAIRS: 'mnms_root',
}
SPLITS = ('train', 'val', 'test')
CASES = [(c, s) for c in (MEIS, CAMUS_FRAMES, CAMUS_SEQUENCES, MNMS,
                          CAMUS_PAIRS, MNMS_PAIRS) for s in SPLITS]
CASES.append((CAMUS_ALL_FRAMES, 'test'))  # every frame of the sequences
# the M&Ms training pairs start with (ED, ED+1): only ED and ES are labelled
UNLABELLED = {(MNMS_PAIRS, 'train')}


def _tool():
    spec = importlib.util.spec_from_file_location('browse_dataset_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(path: str, root: str) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, path))
    for split in SPLITS:
        dataset = cfg[f'{split}_dataloader'].dataset
        dataset.data_root = root + '/'
        if path == CAMUS_SEQUENCES:
            # the phantom has no registration pseudo-labels: train on the
            # dense references instead
            dataset.labels = 'half_sequence_gt'
            dataset.label_root = None
    return cfg


def _numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else \
        np.asarray(x)


def _reference(cfg: Config, split: str, n: int):
    """``(kind, labels of the first panel or None, colours by label)`` of
    the first ``n`` items, drawn from the dataset built under the seed."""
    from mmecho.registry import DATASETS
    init_default_scope('mmecho')
    set_random_seed(SEED)
    dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
    palette = dataset.metainfo.get('palette') or DEFAULT_PALETTE
    out = []
    for i in range(n):
        item = dataset[i]
        sample = item['data_samples']
        if isinstance(sample, dict):  # frame pair: fixed | moving
            labels = _numpy(sample['labels'])[0] \
                if sample['has_labels'] else None
            out.append(('pair', labels, palette, item['inputs'].shape[-2:]))
        elif item['inputs'].ndim == 4:  # sequence: ED first
            out.append(('sequence', _numpy(sample.labels)[0], palette,
                        item['inputs'].shape[-2:]))
        elif 'gt_instances' in sample:  # instances: label + 1 per mask
            gt = sample.gt_instances
            masks = gt.masks.to_ndarray().astype(bool)
            labels = np.zeros(masks.shape[1:], np.int64)
            overlap = masks.sum(0) > 1
            for mask, label in zip(masks, _numpy(gt.labels)):
                labels[mask] = int(label) + 1
            labels[overlap] = -1
            colours = [None] + [list(c) for c in palette]
            out.append(('det', labels, colours, labels.shape))
        else:
            labels = _numpy(sample.gt_sem_seg.data)[0]
            out.append(('seg', labels, palette, labels.shape))
    return len(dataset), out


def _chroma(pixels: np.ndarray) -> np.ndarray:
    pixels = pixels.astype(np.float32)
    return pixels - pixels.mean(axis=-1, keepdims=True)


def _check_colours(rgb: np.ndarray, labels: np.ndarray, colours,
                   erode: int) -> int:
    """Every structure of ``labels`` is drawn in its colour; returns how
    many structures were checked."""
    checked = 0
    kernel = np.ones((3, 3), np.uint8)
    for value in np.unique(labels):
        value = int(value)
        if value <= 0 or value == 255:
            continue
        region = cv2.erode(
            (labels == value).astype(np.uint8), kernel,
            iterations=erode).astype(bool)
        if region.sum() < 15:
            continue
        chroma = _chroma(rgb[region])
        target = _chroma(np.asarray(colours[value], np.float32))
        cos = chroma @ target / (
            np.linalg.norm(chroma, axis=1) * np.linalg.norm(target) + 1e-6)
        share = float(np.mean(cos > 0.8))
        assert share > 0.6, (f'label {value}: only {share:.0%} of its pixels '
                             f'in the colour {colours[value]}')
        checked += 1
    return checked


def _grey_share(rgb: np.ndarray) -> float:
    return float(np.mean(np.abs(_chroma(rgb)).max(-1) < 8))


def _check_outputs(paths, out_dir, cfg, split):
    n_all, reference = _reference(cfg, split, MAX)
    n = min(MAX, n_all)
    assert len(paths) == n == len(reference)
    assert len(set(paths)) == n
    out_dir = osp.realpath(out_dir)
    for p in paths:
        assert osp.dirname(osp.realpath(p)) == out_dir
    assert sorted(osp.basename(p) for p in paths) == sorted(
        f for f in os.listdir(out_dir) if f.endswith('.png'))
    checked = 0
    for path, (kind, labels, colours, shape) in zip(paths, reference):
        bgr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        assert bgr is not None, f'{path} is not a readable image'
        assert bgr.ndim == 3 and bgr.shape[2] == 3, bgr.shape
        rgb = bgr[..., ::-1]
        h, w = int(shape[0]), int(shape[1])
        if kind in ('det', 'seg'):  # drawn at the labels' resolution
            assert rgb.shape[:2] == (h, w)
        elif kind == 'pair':  # fixed | moving
            assert rgb.shape[:2] == (h, 2 * w + PANEL_GAP)
        else:  # ED ... ES
            assert rgb.shape[0] == h and rgb.shape[1] > 2 * w
        first = rgb[:h, :w]
        if labels is None:  # unlabelled pair: no label colours
            assert _grey_share(first) > 0.99
            continue
        checked += _check_colours(first, labels, colours,
                                  4 if kind == 'det' else 1)
        if kind != 'det':  # background (label 0) stays grey
            bg = cv2.erode((labels == 0).astype(np.uint8),
                           np.ones((3, 3), np.uint8)).astype(bool)
            assert np.mean(np.abs(_chroma(first[bg])).max(-1) < 20) > 0.9
    return checked


@pytest.mark.parametrize(
    'config,split',
    CASES,
    ids=[f'{osp.basename(c)[:-3]}-{s}' for c, s in CASES])
def test_browse_every_split(config, split, request, tmp_path):
    root = request.getfixturevalue(ROOTS[config])
    cfg = _config(config, root)
    out_dir = str(tmp_path / 'browse')
    set_random_seed(SEED)
    paths = _tool().browse(cfg, out_dir, split, MAX)
    checked = _check_outputs(paths, out_dir, cfg, split)
    if (config, split) in UNLABELLED:
        assert checked == 0
    else:
        assert checked >= 1, 'no labelled structure was drawn'


def test_browse_cli_data_root(mnms_root, tmp_path):
    """The command line with --data-root (apply_data_root) and --seed."""
    out_dir = str(tmp_path / 'cli')
    args = [
        TOOL, MNMS, '--split', 'test', '--data-root', mnms_root + '/',
        '--out-dir', out_dir, '--max', str(MAX), '--seed', str(SEED)
    ]
    proc = subprocess.run([sys.executable, *args],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert f'{MAX} overlays written' in proc.stdout
    paths = sorted(osp.join(out_dir, f) for f in os.listdir(out_dir))
    assert _check_outputs(paths, out_dir, _config(MNMS, mnms_root),
                          'test') >= 1


def test_output_names_stay_inside_and_unique():
    """Odd source names give file names without separators or dots in
    front; the index keeps samples of the same source apart."""
    from mmengine.structures import BaseDataElement
    tool = _tool()
    item = dict(
        inputs=torch.zeros(3, 4, 4),
        data_samples=BaseDataElement(
            metainfo=dict(img_path='../../x/..\\evil name?.nii.gz')))
    names = {tool.output_name(i, item, 'image') for i in range(3)}
    assert len(names) == 3
    for name in names:
        assert '/' not in name and '\\' not in name
        assert name.endswith('.png') and name[:5].rstrip('_').isdigit()
        assert osp.dirname(osp.normpath(osp.join('out', name))) == 'out'
    pair = dict(
        inputs=torch.zeros(2, 4, 4),
        data_samples=dict(key='../p 1', fixed_index=3, moving_index=0))
    assert tool.output_name(7, pair, 'pair') == '0007_p_1_fixed3_moving0.png'
