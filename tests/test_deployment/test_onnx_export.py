"""ONNX export (mmecho.deployment, tools/deployment/pytorch2onnx.py):
onnxruntime reproduces PyTorch for every kind of network.

Tolerance: 1e-4 absolute. Both run the same float32 graph on the CPU; they
differ only in the order of the summations inside convolutions, matmuls
and resampling (~1e-7 relative per operation). The outputs checked here are
at most ~10 in magnitude (logits, head outputs, displacements of a few
pixels), where the observed differences are 1e-8 .. 1e-5.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmecho.deployment import (default_input_shape, export_onnx, make_adapter,
                               onnx_metadata, verify_onnx)
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT

pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')

TOL = 1e-4

# name: (config, input shape); the cascades need multiples of 32; the
# 2D+time model takes (B, 1, T, H, W) with T % 4 == 0 and H, W % 16 == 0;
# the last three have layers the exporter swaps while tracing (PSPNet's
# adaptive pooling, the EfficientNet encoder's adaptive padding, mmseg
# U-Net's Upsample)
RGB64 = (1, 3, 64, 64)
SEGMENTATION = dict(
    linknet_mbv2=('configs/camus/linknet/linknet_mbv2_camus.py', RGB64),
    thesis_unet=('configs/camus_thesis/unet/unet_camus-thesis.py', RGB64),
    runet=('configs/runet/runet_camus.py', RGB64),
    unet3d_dense=('configs/temporal/unet3d_dense_camus.py', (1, 1, 4, 32, 32)),
    pspnet_mbv2=('configs/camus/pspnet/pspnet_mbv2_camus.py', RGB64),
    linknet_effb0=('configs/camus/linknet/linknet_effb0_camus.py', RGB64),
    unet_mnms=('configs/mnms/unet_mnms.py', (1, 1, 64, 64)),
)


def _build(config: str):
    """The config's model with random weights and random BatchNorm running
    statistics (so that an export in training mode would show)."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(os.path.join(ROOT, config)).model)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and \
                m.track_running_stats:
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model


def _input_dims(path):
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.get_inputs()[0].shape


def _outputs(path, x):
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})


@pytest.mark.parametrize('name', sorted(SEGMENTATION))
def test_segmentation_parity(name, tmp_path):
    config, shape = SEGMENTATION[name]
    model = _build(config)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    path = str(tmp_path / f'{name}.onnx')
    assert export_onnx(model, x, path) == path
    # written atomically: nothing else is left in the folder
    assert os.listdir(tmp_path) == [f'{name}.onnx']
    assert not model.training
    diff = verify_onnx(path, model, x)
    assert diff < TOL, diff
    meta = onnx_metadata(path)
    assert meta['mmecho_kind'] == 'segmentation'
    dims = _input_dims(path)
    assert dims[0] == 'batch' and dims[-2:] == ['height', 'width'], dims
    if len(shape) == 5:
        assert dims[2] == 'frames'
    # the logits of model(x, mode='tensor')
    with torch.no_grad():
        logits = model(x, mode='tensor')
    assert tuple(_outputs(path, x)[0].shape) == tuple(logits.shape)


def test_segmentation_dynamic_shape(tmp_path):
    """Exported at 1x64x64, run at 3x96x128."""
    config, shape = SEGMENTATION['linknet_mbv2']
    model = _build(config)
    path = export_onnx(model, torch.randn(shape), str(tmp_path / 'l.onnx'))
    other = torch.randn(3, 3, 96, 128)
    diff = verify_onnx(path, make_adapter(model), other)
    assert diff < TOL, diff
    out = _outputs(path, other)[0]
    assert out.shape[0] == 3 and out.shape[1] == 4


def test_static_export(tmp_path):
    config, shape = SEGMENTATION['thesis_unet']
    model = _build(config)
    path = export_onnx(
        model, torch.randn(shape), str(tmp_path / 's.onnx'), dynamic=False)
    assert _input_dims(path) == list(shape)
    assert onnx_metadata(path)['mmecho_dynamic_axes'] == ''


REGISTRATION = {
    'bspline_dlir':
    ('configs/registration/bspline_dlir_camus.py', 'head', 0.3),
    'voxelmorph': ('configs/mnms/voxelmorph_mnms.py', 'flow', 1.0),
}


@pytest.mark.parametrize('name', sorted(REGISTRATION))
def test_registration_parity(name, tmp_path):
    config, head, std = REGISTRATION[name]
    model = _build(config)
    # the heads are initialised to ~zero displacement; scale them up so that
    # the fields are pixels large and the warps inside VoxelMorph matter
    torch.nn.init.normal_(getattr(model.network, head).weight, std=std)
    gen = torch.Generator().manual_seed(2)
    pair = torch.rand(1, 2, 64, 64, generator=gen)  # (fixed, moving)
    path = str(tmp_path / f'{name}.onnx')
    with pytest.warns(UserWarning, match='exported with batch dynamic'):
        export_onnx(model, pair, path)
    with torch.no_grad():
        disp = model(pair, mode='tensor')
    assert disp.shape == (1, 2, 64, 64)
    assert float(disp.abs().max()) > 0.5  # a real field
    assert verify_onnx(path, model, pair) < TOL
    assert _outputs(path, pair)[0].shape == (1, 2, 64, 64)
    # both networks compute sizes in Python (the B-spline basis,
    # VoxelMorph's half-resolution velocity): the batch stays dynamic, the
    # spatial axes are frozen, and the file says why
    meta = onnx_metadata(path)
    assert meta['mmecho_kind'] == 'registration'
    assert meta['mmecho_dynamic_axes'] == '0:batch'
    assert 'height' in meta['mmecho_static_reason']
    assert _input_dims(path) == ['batch', 2, 64, 64]
    batch = torch.rand(3, 2, 64, 64, generator=gen)
    assert verify_onnx(path, model, batch) < TOL


def test_instance_parity(tmp_path):
    """maYOLACT on UPANet (rtm_assigner), raw head outputs at 160x160.

    160 = 5 x 32: the deepest UPANet stage is odd-sized, so the trace takes
    the branch that resizes odd panels, which is the identity on even ones;
    the graph is then right for every multiple of 32 (checked at 128).
    """
    model = _build('configs/meis/rtm_assigner.py')
    x = torch.randn(1, 3, 160, 160, generator=torch.Generator().manual_seed(3))
    path = export_onnx(model, x, str(tmp_path / 'rtm.onnx'))
    assert verify_onnx(path, model, x) < TOL
    meta = onnx_metadata(path)
    assert meta['mmecho_kind'] == 'instance'
    assert meta['mmecho_dynamic_axes'] == '0:batch,2:height,3:width'
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    names = [o.name for o in session.get_outputs()]
    assert names[0] == 'cls_score_0' and names[-1] == 'prototypes'
    assert len(names) == 3 * 5 + 1  # 3 outputs x 5 FPN levels + protos
    other = torch.randn(1, 3, 128, 128)
    assert verify_onnx(path, model, other) < TOL


def test_default_input_shapes():
    register_all_modules()
    expect = {
        'configs/camus/linknet/linknet_mbv2_camus.py': (1, 3, 256, 256),
        'configs/temporal/unet3d_dense_camus.py': (1, 1, 16, 256, 256),
        'configs/registration/bspline_dlir_camus.py': (1, 2, 512, 512),
        'configs/mnms/voxelmorph_mnms.py': (1, 2, 256, 256),
    }
    for config, shape in expect.items():
        cfg = Config.fromfile(os.path.join(ROOT, config))
        assert default_input_shape(cfg) == shape, config
    cfg = Config.fromfile(os.path.join(ROOT, SEGMENTATION['runet'][0]))
    assert default_input_shape(cfg, size=(96, 64)) == (1, 3, 96, 64)


def test_exportable_ops_match_the_originals():
    """The layers swapped in while tracing compute what they replace."""
    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
    from mmseg.models.utils.wrappers import Upsample

    from mmecho.deployment.onnx_export import (
        _matrix_adaptive_avg_pool2d, _scale_factor_upsample,
        _traceable_adaptive_padding_forward)
    for h, w in [(8, 8), (7, 13), (1, 5)]:
        x = torch.randn(2, 3, h, w)
        for size in [2, 3, 6, (3, 5), (None, 2)]:
            pool = torch.nn.AdaptiveAvgPool2d(size)
            torch.testing.assert_close(
                _matrix_adaptive_avg_pool2d(pool, x), pool(x))
        for k, s, d in [(3, 1, 1), (3, 2, 1), (5, 2, 1), (3, 1, 2)]:
            conv = Conv2dAdaptivePadding(3, 4, k, stride=s, dilation=d)
            torch.testing.assert_close(
                _traceable_adaptive_padding_forward(conv, x), conv(x))
        for mode, corners in [('nearest', None), ('bilinear', False),
                              ('bilinear', True)]:
            up = Upsample(scale_factor=2, mode=mode, align_corners=corners)
            torch.testing.assert_close(_scale_factor_upsample(up, x), up(x))


def _tool(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, 'tools/deployment/pytorch2onnx.py'] + list(args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300)


def test_tool_verify(tmp_path, capsys):
    config = SEGMENTATION['thesis_unet'][0]
    out = str(tmp_path / 'unet.onnx')
    run = _tool(config, '--out', out, '--verify', '--shape', '64', '64')
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert 'random' in run.stdout
    lines = [
        line for line in run.stdout.splitlines()
        if line.startswith('max abs diff:')
    ]
    assert len(lines) == 1, run.stdout
    assert re.fullmatch(r'max abs diff: \S+', lines[0])
    assert float(lines[0].split(':')[1]) < 1e-3
    assert _input_dims(out) == ['batch', 3, 'height', 'width']
    # a tolerance nothing meets: exit status 1 (in this process, to save
    # the start-up of another one)
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx', os.path.join(ROOT, 'tools/deployment/pytorch2onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    # with a checkpoint (loaded without trusting it)
    checkpoint = str(tmp_path / 'unet.pth')
    torch.save(
        dict(state_dict=_build(config).state_dict(), meta={}), checkpoint)
    capsys.readouterr()
    assert tool.main([
        os.path.join(ROOT, config), checkpoint, '--out', out, '--verify',
        '--shape', '64', '64', '--static', '--tolerance', '-1'
    ]) == 1
    printed = capsys.readouterr()
    assert 'random' not in printed.out
    assert re.search(r'^max abs diff: \S+$', printed.out, re.M)
    assert 'exceeds the tolerance' in printed.err
    assert _input_dims(out) == [1, 3, 64, 64]
