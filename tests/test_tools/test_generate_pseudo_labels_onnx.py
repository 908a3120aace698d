# Copyright (c) mmecho contributors. All rights reserved.
"""tools/generate_pseudo_labels.py --backend onnxruntime: the same labels as
the PyTorch model whose weights were exported, on the CAMUS phantom."""
import glob
import json
import os.path as osp
import warnings

import nibabel as nib
import numpy as np
import pytest
import torch
from mmengine.config import Config

from ..conftest import ROOT

pytest.importorskip('onnxruntime')

CONFIG = osp.join(ROOT, 'configs/registration/bspline_dlir_camus-phantom.py')


@pytest.mark.slow
def test_onnxruntime_labels_equal_pytorch(camus_root, tmp_path):
    from mmecho.deployment import export_onnx
    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    from tools.generate_pseudo_labels import main
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model).eval()
    # random weights with a head large enough to move the labels (pixels)
    torch.nn.init.normal_(model.network.head.weight, std=0.3)
    ckpt = str(tmp_path / 'reg.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    onnx_path = str(tmp_path / 'reg.onnx')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        export_onnx(model, torch.rand(1, 2, 128, 128), onnx_path, True)

    outs = {}
    for backend, weights in (('pytorch', ckpt), ('onnxruntime', onnx_path)):
        out = str(tmp_path / backend)
        main([
            CONFIG, weights, camus_root, '--mode', 'bidirectional', '--out',
            out, '--backend', backend, '--trust-checkpoint'
        ])
        outs[backend] = out
    files = sorted(
        osp.relpath(f, outs['pytorch'])
        for f in glob.glob(osp.join(outs['pytorch'], '**', '*.nii*'),
                           recursive=True))
    assert len(files) == 4 * 2  # 4 patients x 2 views
    moved = 0
    for f in files:
        a = np.asarray(nib.load(osp.join(outs['pytorch'], f)).dataobj)
        b = np.asarray(nib.load(osp.join(outs['onnxruntime'], f)).dataobj)
        assert a.shape == b.shape
        # fields agree to ~1e-6 px: a label can flip only on a boundary
        assert (a == b).mean() > 0.999, f
        moved += int((a[..., 0] != a[..., -1]).sum())
    assert moved > 0  # the labels were propagated, not copied
    sha = [
        json.load(open(osp.join(outs[b], 'pseudo_labels.json')))
        for b in ('pytorch', 'onnxruntime')
    ]
    assert json.dumps(sha[0]) != json.dumps(sha[1])
    assert onnx_path in json.dumps(sha[1])


def test_onnxruntime_backend_needs_the_onnx_file(tmp_path):
    from tools.generate_pseudo_labels import main
    with pytest.raises(SystemExit, match='expects the exported .onnx'):
        main([
            CONFIG, str(tmp_path / 'reg.pth'),
            str(tmp_path), '--backend', 'onnxruntime'
        ])
