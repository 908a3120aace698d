"""int8 static quantisation (mmecho/deployment/quantization.py,
tools/deployment/quantize_onnx.py): the int8 file runs in onnxruntime, is
quantised (QuantizeLinear / DequantizeLinear nodes), keeps the export's
metadata, and stays close to fp32.

Model: the tiny phantom U-Net (``configs/camus/fcn_unet-tiny_camus-phantom
.py``, 64 x 64) with random weights (seed 0) and random BatchNorm
statistics, calibrated on 8 frames of two phantom patients, compared on 8
frames of the two others.

Tolerance, from the observed error: over seeds 0-7 of this setting
(onnxruntime 1.32, x86-64 with AVX512-VNNI), the largest absolute
difference int8 - fp32 was 0.024-0.16 of the largest fp32 logit (0.16 for
seed 0, the one tested), the mean absolute difference 0.018-0.056 of the
mean absolute deviation of the fp32 logits, and 97.5-99.0 % of the pixels
kept their argmax. The test allows twice the worst of those (0.35, 0.12)
and 95 % of the pixels: int8 kernels differ between CPUs (without VNNI,
onnxruntime's u8 x s8 products may saturate).
"""
import glob
import importlib.util
import io
import os.path as osp
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from ..conftest import ROOT

pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')

CONFIG = osp.join(ROOT, 'configs/camus/fcn_unet-tiny_camus-phantom.py')
MAX_REL = 0.35
MEAN_REL = 0.12
MIN_AGREE = 0.95


def _tiny_model(seed=0):
    from mmecho.apis import init_segmentor
    torch.manual_seed(seed)
    model = init_segmentor(CONFIG)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model


def _patients(camus_root):
    return sorted(glob.glob(osp.join(camus_root, 'database_nifti', 'p*')))


@pytest.fixture(scope='module')
def files(camus_root, tmp_path_factory):
    """(fp32 file, int8 file, quantize report, evaluation inputs)."""
    from mmecho.deployment import export_onnx
    from mmecho.deployment.quantization import (calibration_inputs,
                                                quantize_onnx)
    tmp = tmp_path_factory.mktemp('int8')
    fp32 = export_onnx(_tiny_model(), torch.randn(1, 3, 64, 64),
                       str(tmp / 'tiny.onnx'))
    patients = _patients(camus_root)
    calib = calibration_inputs(fp32, patients[:2], CONFIG, num=8)
    int8 = str(tmp / 'tiny.int8.onnx')
    report = quantize_onnx(fp32, int8, calib)
    evals = calibration_inputs(fp32, patients[2:], CONFIG, num=8)
    return fp32, int8, report, evals


def _run(path, x):
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_int8_file_is_quantised_and_close_to_fp32(files):
    from mmecho.deployment import onnx_metadata
    from mmecho.deployment.quantization import quantized_op_counts
    fp32, int8, report, evals = files
    ops = quantized_op_counts(int8)
    assert ops['QuantizeLinear'] > 0 and ops['DequantizeLinear'] > 0, ops
    assert report['ops'] == dict(ops)
    assert report['calibration_inputs'] == 8
    meta, ref_meta = onnx_metadata(int8), onnx_metadata(fp32)
    assert {k: meta[k] for k in ref_meta} == ref_meta  # kind, axes, ...
    assert 'QDQ' in meta['mmecho_quantization']
    assert 'per channel' in meta['mmecho_quantization']
    assert osp.getsize(int8) < 0.6 * osp.getsize(fp32)
    max_rel, mean_rel, agree = [], [], []
    for x in evals:
        a, b = _run(fp32, x), _run(int8, x)
        assert a.shape == b.shape and b.dtype == np.float32
        max_rel.append(np.abs(a - b).max() / np.abs(a).max())
        mean_rel.append(np.abs(a - b).mean() / np.abs(a - a.mean()).mean())
        agree.append((a.argmax(1) == b.argmax(1)).mean())
    print(f'int8 vs fp32: max {max(max_rel):.3f} of the largest logit, '
          f'mean {max(mean_rel):.3f}, pixels agreeing >= {min(agree):.4f}')
    assert 0 < max(max_rel) <= MAX_REL, max_rel  # quantised, yet close
    assert max(mean_rel) <= MEAN_REL, mean_rel
    assert min(agree) >= MIN_AGREE, agree
    # the dynamic axes survive: another size and batch run
    x = np.concatenate([evals[0], evals[1]])
    assert _run(int8, x).shape[0] == 2


def test_int8_file_in_the_segmentation_api(files, camus_root):
    from mmecho.apis import inference_segmentor, init_segmentor
    fp32, int8, _, _ = files
    image = sorted(
        glob.glob(osp.join(_patients(camus_root)[-1], '*_ED.nii.gz')))[0]
    a = inference_segmentor(
        init_segmentor(CONFIG, backend='onnxruntime', onnx=fp32), image)
    b = inference_segmentor(
        init_segmentor(CONFIG, backend='onnxruntime', onnx=int8), image)
    assert a.labels.shape == b.labels.shape == (128, 96)
    assert (a.labels == b.labels).mean() >= MIN_AGREE


def test_calibration_files_skip_labels(camus_root, tmp_path):
    from mmecho.deployment.quantization import (ArrayCalibrationReader,
                                                find_calibration_files,
                                                load_frames)
    found = find_calibration_files(_patients(camus_root)[0])
    assert found and not [f for f in found if '_gt' in osp.basename(f)]
    assert any(f.endswith('_half_sequence.nii.gz') for f in found)
    seq = [f for f in found if f.endswith('_half_sequence.nii.gz')][0]
    frames = load_frames(seq)
    assert len(frames) > 1 and frames[0].dtype == np.uint8
    (tmp_path / 'notes.txt').write_text('no images here')
    with pytest.raises(FileNotFoundError, match='no image'):
        find_calibration_files(str(tmp_path))
    reader = ArrayCalibrationReader('inputs', [np.zeros((1, 3, 4, 4))] * 2)
    assert len(reader) == 2
    assert reader.get_next()['inputs'].dtype == np.float32
    assert reader.get_next() is not None and reader.get_next() is None
    reader.rewind()
    assert reader.get_next() is not None
    with pytest.raises(ValueError, match='no calibration'):
        ArrayCalibrationReader('inputs', [])


def _tool():
    spec = importlib.util.spec_from_file_location(
        'quantize_onnx_tool',
        osp.join(ROOT, 'tools/deployment/quantize_onnx.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tool_on_a_registration_network(camus_root, tmp_path):
    """No config needed: frame pairs of the phantom's sequences in [0, 1]
    at the file's 64 x 64; ``--verify`` prints the difference."""
    import warnings

    from mmengine.config import Config

    from mmecho.deployment import export_onnx, onnx_metadata
    from mmecho.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(
        Config.fromfile(
            osp.join(ROOT,
                     'configs/registration/bspline_dlir_camus.py')).model)
    torch.nn.init.normal_(model.network.head.weight, std=0.3)
    fp32 = str(tmp_path / 'reg.onnx')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # batch-only dynamic axes
        export_onnx(model, torch.rand(1, 2, 64, 64), fp32)
    tool, out = _tool(), str(tmp_path / 'reg.int8.onnx')
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert tool.main([
            fp32, '--calib-dir',
            _patients(camus_root)[0], '--out', out, '--num', '6', '--verify'
        ]) == 0
    text = buf.getvalue()
    assert 'calibrating on 6 inputs (1x2x64x64)' in text, text
    assert 'QuantizeLinear' in text
    line = [t for t in text.splitlines() if t.startswith('max abs diff:')]
    assert len(line) == 1, text
    assert onnx_metadata(out)['mmecho_kind'] == 'registration'
    # a segmentation file needs its config
    seg = export_onnx(_tiny_model(), torch.randn(1, 3, 64, 64),
                      str(tmp_path / 'seg.onnx'))
    with pytest.raises(SystemExit, match='--config'):
        tool.main([seg, '--calib-dir', camus_root, '--out', out])
    with pytest.raises(SystemExit):  # never over the fp32 file
        tool.parse_args([seg, '--calib-dir', camus_root, '--out', seg])


def test_benchmark_int8_segmentation_lines(camus_root):
    """tools/analysis_tools/benchmark_int8.py on the tiny U-Net with random
    weights: the latency line and the Dice line, in their formats."""
    import re
    spec = importlib.util.spec_from_file_location(
        'benchmark_int8_tool',
        osp.join(ROOT, 'tools/analysis_tools/benchmark_int8.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    buf = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with redirect_stdout(buf):
            assert tool.main([
                '--skip-instance', '--seg-config', CONFIG, '--seg-checkpoint',
                'random', '--camus-root', camus_root, '--seg-frames', '0', '5',
                '--calib-num', '4', '--iters', '2', '--warmup', '0',
                '--threads', '1'
            ]) == 0
    finally:
        torch.set_num_threads(threads)
    lines = [t for t in buf.getvalue().splitlines() if not t.startswith('#')]
    assert len(lines) == 2, buf.getvalue()
    m = re.fullmatch(
        r'fcn_unet-tiny_camus-phantom  1x3x64x64  fp32 (\d+\.\d) ms  int8 '
        r'(\d+\.\d) ms  ratio int8/fp32 (\d+\.\d\d)', lines[0])
    assert m, lines[0]
    assert 'random weights' in buf.getvalue()
    m = re.fullmatch(
        r'  Dice \(LV, myocardium, LA\) vs ground truth \(8 frames of 2 '
        r'validation/test patients\): fp32 (\S+)  int8 (\S+)  change (\S+); '
        r'int8 vs fp32 Dice (\S+), (\S+) % of pixels agree', lines[1])
    assert m, lines[1]
    d32, d8, change, agree, pixels = map(float, m.groups())
    assert abs(change - (d8 - d32)) < 2e-4
    assert 0 <= agree <= 1 and 90 <= pixels <= 100
