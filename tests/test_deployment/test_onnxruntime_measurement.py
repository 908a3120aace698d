"""AMEM without the PyTorch network: the onnxruntime backend
(mmecho/deployment/onnxruntime_backend.py) gives PyTorch's instances, masks
and measurements (MModeMeasurer, tools/measure.py), and
tools/analysis_tools/benchmark_backends.py prints its line per model.

The model is the ``make demo`` config (UPANet16, 256 x 256 test input) with
random weights (seed 0) and at most 20 detections per image (its test_cfg;
random weights give up to 100 confident ones, each upsampled to the whole
capture). Exported at 160 x 160 (5 x 32: UPANet must be traced at an odd
multiple of 32) with dynamic axes, run at the pipeline's 256 x 256.

Random weights give confident detections of random shape, so every row ends
in a status without values ('contradictory structures', 'LV view but IVS
missing', ...): the rows check the plumbing (calibration, status, CSV), the
instances and masks check the backend. ``test_trained_demo_checkpoint``
repeats the comparison on the weights of ``make demo``
(``work_dirs/demo/*.pth``; skipped without them), where most rows are
measured ('ok', values in cm).

Masks: onnxruntime's outputs differ from PyTorch's by ~1e-6, so a mask pixel
whose value lies that close to the 0.5 threshold may flip; an instance's
mask may differ by max(2 px, 1 % of the union of both) (observed on the 13
phantom captures: 4 px over 260 random-weight instances, the smallest IoU
0.990 on a 101 px mask; none with the trained weights). The best mask per
class, which the measurement uses, was identical in every case.
"""
import csv
import glob
import importlib.util
import io
import os.path as osp
import re
import shutil
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from ..conftest import ROOT

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

CONFIG = osp.join(ROOT, 'configs', 'meis',
                  'rtm_assigner_upanet16_meis-phantom_demo.py')
NUM_IMAGES = 3
REL_TOL = 1e-3
MIN_IOU = 0.99


def _load_tool(name, path):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_config(tmp_path):
    """The demo config with at most 20 detections per image."""
    path = tmp_path / 'demo_top20.py'
    path.write_text(f'_base_ = {CONFIG!r}\n'
                    'model = dict(test_cfg=dict(max_per_img=20))\n')
    return str(path)


@pytest.fixture(scope='module')
def demo_files(tmp_path_factory):
    """(config, random-weight checkpoint, its ONNX export)."""
    from mmengine.runner import save_checkpoint

    from mmecho.deployment import export_onnx, onnx_metadata
    from mmecho.registry import MODELS
    from mmecho.utils import load_config
    tmp = tmp_path_factory.mktemp('ort_demo')
    config = _write_config(tmp)
    torch.manual_seed(0)
    model = MODELS.build(load_config(config, None).model).eval()
    ckpt = str(tmp / 'random.pth')
    save_checkpoint(model.state_dict(), ckpt)
    onnx_path = str(tmp / 'demo.onnx')
    x = torch.randn(1, 3, 160, 160, generator=torch.Generator().manual_seed(0))
    export_onnx(model, x, onnx_path)
    meta = onnx_metadata(onnx_path)
    assert meta['mmecho_dynamic_axes'] == '0:batch,2:height,3:width', meta
    return config, ckpt, onnx_path


@pytest.fixture(scope='module')
def images(meis_root, tmp_path_factory):
    """A folder with the first NUM_IMAGES phantom captures."""
    folder = tmp_path_factory.mktemp('ort_images')
    for p in sorted(glob.glob(osp.join(meis_root, 'raw_image',
                                       '*.jpg')))[:NUM_IMAGES]:
        shutil.copy(p, folder)
    return sorted(glob.glob(str(folder / '*.jpg')))


def _iou(a, b):
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def compare_instances(a, b):
    """Match every PyTorch instance (``a``) to an onnxruntime one (``b``)
    of the same label and score (1e-4) whose mask differs by at most
    max(2 px, 1 % of the union); returns (max score difference, max box
    difference in px, smallest mask IoU, differing mask pixels)."""
    assert len(a) == len(b), (len(a), len(b))
    free = list(range(len(b)))
    score_diff = box_diff = pixels = 0.0
    min_iou = 1.0
    for i in range(len(a)):
        cands = [
            j for j in free if int(b.labels[j]) == int(a.labels[i])
            and abs(float(b.scores[j] - a.scores[i])) < 1e-4
        ]
        assert cands, f'instance {i} has no onnxruntime counterpart'
        ious = [_iou(a.masks[i], b.masks[j]) for j in cands]
        j = cands[int(np.argmax(ious))]
        free.remove(j)
        diff = int((a.masks[i] != b.masks[j]).sum())
        union = int((a.masks[i] | b.masks[j]).sum())
        assert diff <= max(2, 0.01 * union), (i, diff, union)
        min_iou = min(min_iou, max(ious))
        score_diff = max(score_diff, abs(float(b.scores[j] - a.scores[i])))
        box_diff = max(box_diff, float(
            (b.bboxes[j] - a.bboxes[i]).abs().max()))
        pixels += diff
    return score_diff, box_diff, min_iou, pixels


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def assert_rows_equal(a, b):
    """Same keys; numbers within REL_TOL (relative), the rest identical."""
    assert a.keys() == b.keys()
    for k in a:
        x, y = _number(a[k]), _number(b[k])
        if x is None or y is None:
            assert a[k] == b[k], (k, a[k], b[k])
        else:
            assert abs(x - y) <= REL_TOL * max(abs(x), abs(y), 1e-12), \
                (k, a[k], b[k])


def compare_measurers(torch_m, ort_m, paths):
    """Instances, per-class masks and measurement rows of both measurers
    on ``paths``; returns the rows and the largest differences."""
    import mmcv

    from mmecho.apis import inference_instance_model
    stats = dict(
        score=0.0,
        box=0.0,
        iou=1.0,
        pixels=0,
        instances=0,
        class_iou=1.0,
        rows_identical=True)
    rows = []
    for path in paths:
        image = mmcv.imread(path)
        a = inference_instance_model(torch_m.model, image).pred_instances
        b = inference_instance_model(ort_m.model, image).pred_instances
        score, box, iou, pixels = compare_instances(a, b)
        stats['score'] = max(stats['score'], score)
        stats['box'] = max(stats['box'], box)
        stats['iou'] = min(stats['iou'], iou)
        stats['pixels'] += pixels
        stats['instances'] += len(a)
        ra, rb = torch_m(path), ort_m(path)
        assert ra.masks.keys() == rb.masks.keys()
        for name in ra.masks:
            stats['class_iou'] = min(stats['class_iou'],
                                     _iou(ra.masks[name], rb.masks[name]))
        row_a, row_b = ra.as_row(), rb.as_row()
        assert_rows_equal(row_a, row_b)
        stats['rows_identical'] &= row_a == row_b
        rows.append(row_a)
    assert stats['class_iou'] > MIN_IOU, stats
    assert stats['score'] < 1e-4, stats
    assert stats['box'] < 0.1, stats  # px at 256
    return rows, stats


@pytest.mark.slow
def test_measurer_backends_agree(demo_files, images):
    from mmecho.apis import MModeMeasurer
    from mmecho.deployment.onnxruntime_backend import ONNXRuntimeDetector
    config, ckpt, onnx_path = demo_files
    torch_m = MModeMeasurer(config, ckpt)
    ort_m = MModeMeasurer(config, backend='onnxruntime', onnx_model=onnx_path)
    assert isinstance(ort_m.model, ONNXRuntimeDetector)
    assert ort_m.model.dataset_meta['classes'] == \
        torch_m.model.dataset_meta['classes']
    # the network's weights come from the file only: the backbone and neck
    # are gone, and the tensors left in the heads are never read (mmdet's
    # post-processing and YOLACT's mask assembly have no learned weights)
    det = ort_m.model.detector
    assert det.backbone is None and det.neck is None
    assert isinstance(det.mask_head.protonet, torch.nn.Identity)
    with torch.no_grad():
        for p in ort_m.model.parameters():
            p.fill_(float('nan'))
    rows, stats = compare_measurers(torch_m, ort_m, images)
    assert len(rows) == len(images)
    assert all(r['status'] for r in rows)
    assert all(r['calibration'] == 'depth scale' for r in rows)


@pytest.mark.slow
def test_measure_tool_onnxruntime_rows(demo_files, images, tmp_path):
    config, ckpt, onnx_path = demo_files
    tool = _load_tool('measure_tool_ort', 'tools/measure.py')
    folder = osp.dirname(images[0])
    out_pt, out_ort = str(tmp_path / 'pt'), str(tmp_path / 'ort')
    tool.main([config, ckpt, folder, '--out', out_pt, '--no-overlays'])
    tool.main([
        config, folder, '--backend', 'onnxruntime', '--onnx', onnx_path,
        '--out', out_ort, '--no-overlays'
    ])
    for name in ('measurements.csv', 'cycles.csv'):
        with open(osp.join(out_pt, name), newline='') as f:
            a = list(csv.DictReader(f))
        with open(osp.join(out_ort, name), newline='') as f:
            b = list(csv.DictReader(f))
        assert len(a) == len(b)
        for ra, rb in zip(a, b):
            assert_rows_equal(ra, rb)
        if name == 'measurements.csv':
            assert len(a) == len(images)
            assert all(r['sha256'] for r in a)


def test_measure_tool_backend_arguments(tmp_path):
    tool = _load_tool('measure_tool_args', 'tools/measure.py')
    out = ['--out', str(tmp_path)]
    args = tool.parse_args(
        ['c.py', 'in', '--backend', 'onnxruntime', '--onnx', 'm.onnx'] + out)
    assert (args.backend, args.onnx) == ('onnxruntime', 'm.onnx')
    assert tool.parse_args(['c.py', 'w.pth', 'in'] + out).backend == 'pytorch'
    for bad in (
        ['c.py', 'in', '--backend', 'onnxruntime'],  # no --onnx
        ['c.py', 'w.pth', 'in', '--backend', 'onnxruntime', '--onnx', 'm'],
        ['c.py', 'w.pth', 'in', '--onnx', 'm.onnx'],  # --onnx for pytorch
        [
            '--from-annotations', 'a.json', '--images', 'd', '--backend',
            'onnxruntime', '--onnx', 'm.onnx'
        ],
    ):
        with pytest.raises(SystemExit):
            tool.parse_args(bad + out)


def test_measurer_backend_arguments(tmp_path):
    from mmecho.apis import MModeMeasurer
    with pytest.raises(ValueError, match='backend'):
        MModeMeasurer(CONFIG, backend='tensorrt')
    with pytest.raises(ValueError, match='onnx_model'):
        MModeMeasurer(CONFIG, backend='onnxruntime')
    with pytest.raises(ValueError, match='no checkpoint'):
        MModeMeasurer(
            CONFIG, 'w.pth', backend='onnxruntime', onnx_model='m.onnx')
    with pytest.raises(ValueError, match="backend='onnxruntime'"):
        MModeMeasurer(CONFIG, onnx_model='m.onnx')
    with pytest.raises(FileNotFoundError):
        MModeMeasurer(
            CONFIG,
            backend='onnxruntime',
            onnx_model=str(tmp_path / 'missing.onnx'))


def test_output_layout_and_input_check():
    from mmecho.deployment.onnxruntime_backend import (
        ONNXRuntimeInstanceNetwork, _output_layout)
    names = [
        f'{n}_{i}' for n in ('cls_score', 'bbox_pred', 'coeff_pred')
        for i in range(3)
    ] + ['prototypes']
    assert _output_layout(names) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], 9]
    rtm = [
        f'{n}_{i}' for n in ('cls_score', 'bbox_pred', 'kernel_pred')
        for i in range(2)
    ] + ['mask_feat']
    assert _output_layout(rtm) == [[0, 1], [2, 3], [4, 5], 6]
    with pytest.raises(ValueError, match='not the head outputs'):
        _output_layout(['output_0', 'output_1'])
    with pytest.raises(ValueError, match='level'):
        _output_layout(['cls_score_0', 'cls_score_2'])
    net = ONNXRuntimeInstanceNetwork.__new__(ONNXRuntimeInstanceNetwork)
    net.path, net.input_shape = 'm.onnx', [1, 3, 160, 160]  # a static file
    net.check_input((1, 3, 160, 160))
    with pytest.raises(ValueError, match='dynamic axes'):
        net.check_input((1, 3, 256, 256))
    net.input_shape = ['batch', 3, 'height', 'width']
    net.check_input((2, 3, 256, 320))


def test_segmentation_file_is_refused(tmp_path):
    from mmengine.config import Config

    from mmecho.deployment import export_onnx
    from mmecho.deployment.onnxruntime_backend import \
        ONNXRuntimeInstanceNetwork
    from mmecho.registry import MODELS
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/camus_thesis/unet/unet_camus-thesis.py'))
    path = export_onnx(
        MODELS.build(cfg.model),
        torch.randn(1, 3, 32, 32),
        str(tmp_path / 's.onnx'),
        dynamic=False)
    with pytest.raises(ValueError, match='segmentation network'):
        ONNXRuntimeInstanceNetwork(path)


def _demo_checkpoint():
    found = sorted(glob.glob(osp.join(ROOT, 'work_dirs', 'demo', '*.pth')))
    best = [p for p in found if osp.basename(p).startswith('best_')]
    return (best or found or [None])[-1]


@pytest.mark.slow
@pytest.mark.skipif(
    _demo_checkpoint() is None,
    reason='no make-demo checkpoint in work_dirs/demo')
def test_trained_demo_checkpoint(meis_root, tmp_path):
    """The weights of ``make demo``: most rows measured, the same values."""
    from mmecho.apis import MModeMeasurer
    from mmecho.deployment import export_onnx
    ckpt = _demo_checkpoint()
    torch_m = MModeMeasurer(CONFIG, ckpt)
    onnx_path = export_onnx(torch_m.model, torch.randn(1, 3, 160, 160),
                            str(tmp_path / 'trained.onnx'))
    ort_m = MModeMeasurer(CONFIG, backend='onnxruntime', onnx_model=onnx_path)
    paths = sorted(glob.glob(osp.join(meis_root, 'raw_image', '*.jpg')))[:6]
    rows, _ = compare_measurers(torch_m, ort_m, paths)
    assert sum(r['status'] == 'ok' for r in rows) >= 3, rows


def test_benchmark_backends_line():
    tool = _load_tool('benchmark_backends_tool',
                      'tools/analysis_tools/benchmark_backends.py')
    buf = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with redirect_stdout(buf):
            assert tool.main([
                'configs/camus_thesis/unet/unet_camus-thesis.py', '--shape',
                '32', '32', '--iters', '2', '--warmup', '0', '--threads', '1'
            ]) == 0
    finally:
        torch.set_num_threads(threads)
    lines = [
        line for line in buf.getvalue().splitlines()
        if not line.startswith('#')
    ]
    assert len(lines) == 1, buf.getvalue()
    m = re.fullmatch(
        r'unet_camus-thesis  torch (\d+\.\d) ms  onnxruntime (\d+\.\d) ms  '
        r'ratio ort/torch (\d+\.\d\d)', lines[0])
    assert m, lines[0]
    torch_ms, ort_ms, ratio = map(float, m.groups())
    assert torch_ms > 0 and ort_ms > 0
    assert abs(ratio - ort_ms / torch_ms) <= 0.01 + 0.05 * ratio
