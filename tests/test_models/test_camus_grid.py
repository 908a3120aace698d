"""Every architecture x encoder of the CAMUS grid builds from its leaf config
and trains (forward + backward) at 256x256."""
import subprocess
import sys

import pytest
import torch
from mmengine import Config

from mmecho.grid import ARCHITECTURES, ENCODERS, leaf_config_path
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT
from .seg_samples import random_seg_samples

CELLS = [(a, e) for a in ARCHITECTURES for e in ENCODERS]


def _batch(n=2, size=256):
    torch.manual_seed(0)
    return torch.randn(n, 3, size, size), random_seg_samples(n, size)


@pytest.mark.parametrize('arch,encoder', CELLS)
def test_cell_trains_one_step(arch, encoder):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/{leaf_config_path(arch, encoder)}')
    model = MODELS.build(cfg.model)
    model.train()
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    loss = sum(v for k, v in losses.items() if k.startswith('decode.loss'))
    assert torch.isfinite(loss)
    loss.backward()
    # the encoder's first and last parameters get gradients: the whole
    # pyramid feeds the decoder
    enc = [p for p in model.backbone.parameters() if p.requires_grad]
    assert enc[0].grad is not None and enc[0].grad.abs().sum() > 0
    assert enc[-1].grad is not None
    model.eval()
    with torch.no_grad():
        logits = model(inputs[:1], mode='tensor')
    assert logits.shape[1] == 4


def test_leaf_configs_are_generated_and_current():
    out = subprocess.run([
        sys.executable, 'tools/misc/generate_camus_grid_configs.py', '--check'
    ],
                         cwd=ROOT,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert '0 of 198' in out.stdout  # 99 cells x 2 protocols
