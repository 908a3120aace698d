"""``onnx_fields_fn`` (mmecho/deployment/onnxruntime_backend.py): the
displacement fields of an exported registration network, as the
pseudo-label generator's ``model_fields_fn(model)`` computes them.

Models: the DLIR B-spline network and VoxelMorph with random weights
(seed 0), their flow heads scaled up as in test_onnx_export.py so the
fields are pixels large, exported at 64 x 64 (dynamic batch, fixed size).
Tolerance 1e-4 px: both run the same float32 graph; the observed
differences are ~1e-6 on fields of 1-2 px.
"""
import warnings

import numpy as np
import pytest
import torch
from mmengine.config import Config

from ..conftest import ROOT

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

TOL = 1e-4
NETWORKS = {
    'bspline_dlir':
    ('configs/registration/bspline_dlir_camus.py', 'head', 0.3),
    'voxelmorph': ('configs/mnms/voxelmorph_mnms.py', 'flow', 1.0),
}


def _model_fields_fn():
    from mmecho.registration.pseudo_labels import model_fields_fn
    return model_fields_fn


def _exported(name, tmp_path, dynamic=True, batch=1):
    from mmecho.deployment import export_onnx
    from mmecho.registry import MODELS
    config, head, std = NETWORKS[name]
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(f'{ROOT}/{config}').model).eval()
    torch.nn.init.normal_(getattr(model.network, head).weight, std=std)
    path = str(tmp_path / f'{name}_{int(dynamic)}.onnx')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # batch-only dynamic axes
        export_onnx(model, torch.rand(batch, 2, 64, 64), path, dynamic)
    return model, path


def _pairs(n, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 64, 64,
                       generator=gen), torch.rand(n, 1, 64, 64, generator=gen))


@pytest.mark.parametrize('name', sorted(NETWORKS))
def test_fields_match_model_fields_fn(name, tmp_path):
    from mmecho.deployment.onnxruntime_backend import onnx_fields_fn
    model, path = _exported(name, tmp_path)
    ref_fn, fn = _model_fields_fn()(model), onnx_fields_fn(path)
    fixed, moving = _pairs(5)  # batch 5 through a batch-dynamic file
    ref, got = ref_fn(fixed, moving), fn(fixed, moving)
    assert got.shape == ref.shape == (5, 2, 64, 64)
    assert got.dtype == torch.float32 and got.device == fixed.device
    assert float(ref.abs().max()) > 0.5  # a real field
    assert float((got - ref).abs().max()) < TOL
    # the size the file was exported at is required, and named
    with pytest.raises(ValueError, match='64 x 64'):
        fn(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match='one shape'):
        fn(fixed, moving[:2])


def test_static_batch_file_runs_in_chunks(tmp_path):
    from mmecho.deployment.onnxruntime_backend import onnx_fields_fn
    model, path = _exported('bspline_dlir', tmp_path, dynamic=False, batch=2)
    fn = onnx_fields_fn(path)
    assert fn.network.fixed_batch == 2
    fixed, moving = _pairs(5, seed=4)  # 2 + 2 + 1 (padded)
    ref = _model_fields_fn()(model)(fixed, moving)
    assert float((fn(fixed, moving) - ref).abs().max()) < TOL


def test_non_finite_field_raises(tmp_path):
    from mmecho.deployment.onnxruntime_backend import onnx_fields_fn
    from mmecho.registration import NonFiniteError
    _, path = _exported('bspline_dlir', tmp_path)
    fixed, moving = _pairs(1)
    fixed[0, 0, 3, 3] = float('nan')
    with pytest.raises(NonFiniteError):
        onnx_fields_fn(path)(fixed, moving)


def test_propagated_labels_are_identical(tmp_path):
    """The pseudo-label propagation (sequential composition, both
    directions, fusion) gives the same labels with either fields_fn."""
    from mmecho.deployment.onnxruntime_backend import onnx_fields_fn
    from mmecho.registration import propagate_labels
    model, path = _exported('voxelmorph', tmp_path)
    gen = np.random.default_rng(0)
    frames = (gen.random((5, 96, 80)) * 255).astype(np.uint8)
    ed = np.zeros((96, 80), np.uint8)
    ed[30:70, 20:60] = 1
    ed[40:60, 30:50] = 2
    es = np.roll(ed, 3, axis=0)
    kw = dict(mode='bidirectional', num_classes=3, size=(64, 64), batch_size=3)
    a = propagate_labels(_model_fields_fn()(model), frames, ed, es, **kw)
    b = propagate_labels(onnx_fields_fn(path), frames, ed, es, **kw)
    assert a.shape == (5, 96, 80)
    assert np.array_equal(a, b)
