"""A diverging training fails with a clear error instead of a SIGSEGV, and
the last good checkpoint is kept (issue 15, point 4)."""
import glob
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmecho.engine.hooks import NonFiniteLossHook
from mmecho.registration import NonFiniteError, spatial_transform, warp
from mmecho.registry import MODELS
from ..conftest import ROOT, small_registration_overrides

REG_CFG = 'configs/registration/bspline_dlir_camus-phantom.py'


@pytest.fixture
def no_grid_sample(monkeypatch):
    """Make any call of ``grid_sample`` fail the test: a NaN grid must be
    refused before it (its backward segfaults on torch 2.13 CPU)."""

    def refuse(*args, **kwargs):
        raise AssertionError('grid_sample was called')

    monkeypatch.setattr(spatial_transform.F, 'grid_sample', refuse)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_warp_refuses_non_finite_displacement(bad, no_grid_sample):
    image = torch.rand(2, 1, 8, 6, requires_grad=True)
    disp = torch.zeros(2, 2, 8, 6)  # (B, 2, H, W) pixels
    disp[1, 0, 3, 2] = bad
    disp[1, 1, 4:6, 0] = bad
    disp.requires_grad_(True)
    with pytest.raises(NonFiniteError) as err:
        warp(image, disp)
    msg = str(err.value)
    assert 'displacement field passed to warp()' in msg
    assert '3 of 192 values are non-finite' in msg
    assert ('3 NaN' if bad != bad else '3 inf') in msg
    assert image.grad is None and disp.grad is None


def test_registrator_refuses_a_diverged_network(no_grid_sample):
    """A network with NaN weights: ``loss`` mode raises before any warp,
    so there is no graph through grid_sample to run backward on."""
    cfg = Config.fromfile(osp.join(ROOT, REG_CFG))
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.network.head.bias.fill_(float('nan'))
    inputs = torch.rand(2, 2, 32, 32)  # (B, fixed + moving, H, W) in [0, 1]
    with pytest.raises(NonFiniteError) as err:
        model(inputs, mode='loss')
    msg = str(err.value)
    assert 'displacement predicted by BSplineRegistrationNet' in msg
    assert '4096 of 4096 values are non-finite (4096 NaN, 0 inf)' in msg


def _runner(tmp_path, model=None, it=4):
    """The parts of a Runner the hook reads; ``it`` is 0-based."""
    return SimpleNamespace(
        model=model or nn.Linear(2, 1),
        iter=it,
        epoch=0,
        work_dir=str(tmp_path))


def test_hook_passes_finite_losses(tmp_path):
    outputs = dict(
        loss=torch.tensor(0.5),
        loss_sim=torch.tensor(-0.5),
        loss_reg=torch.tensor(1.0),
        acc=float('nan'))  # acc is no loss
    NonFiniteLossHook().after_train_iter(_runner(tmp_path), 4, {}, outputs)
    NonFiniteLossHook().after_train_iter(_runner(tmp_path), 4, {}, None)


def test_hook_names_terms_iteration_and_kept_checkpoint(tmp_path):
    ckpt = tmp_path / 'iter_4.pth'
    ckpt.write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    outputs = dict(
        loss=torch.tensor(float('nan')),
        loss_sim=torch.tensor(-0.5),
        loss_reg=torch.tensor(float('inf')))
    with pytest.raises(NonFiniteError) as err:
        NonFiniteLossHook().after_train_iter(_runner(tmp_path), 4, {}, outputs)
    msg = str(err.value)
    assert 'loss=nan' in msg and 'loss_reg=inf' in msg
    assert 'loss_sim' not in msg
    assert 'training iteration 5 (1-based, as in the log)' in msg
    assert f'the last checkpoint, {ckpt}, was saved before' in msg
    assert 'lower the learning rate' in msg


def test_hook_catches_non_finite_parameters_behind_a_finite_loss(tmp_path):
    """At lr 0.05 DLIR's loss was finite at the step that made every
    parameter NaN: the hook checks the parameters too."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    with torch.no_grad():
        model[1].weight[0, 1] = float('nan')
    with pytest.raises(NonFiniteError) as err:
        NonFiniteLossHook().after_train_iter(
            _runner(tmp_path, model, it=0), 0, {},
            dict(loss=torch.tensor(1.0)))
    msg = str(err.value)
    assert '1 of 4 tensors, first 1.weight' in msg
    assert 'training iteration 1 ' in msg
    assert 'no checkpoint was saved before it' in msg
    NonFiniteLossHook(check_parameters=False).after_train_iter(
        _runner(tmp_path, model), 0, {}, dict(loss=torch.tensor(1.0)))


def test_hook_runs_before_the_checkpoint_hook():
    from mmengine.hooks import CheckpointHook, LoggerHook
    from mmengine.runner.priority import get_priority
    mine = get_priority(NonFiniteLossHook.priority)
    assert get_priority(LoggerHook.priority) < mine
    assert mine < get_priority(CheckpointHook.priority)


def test_every_training_config_has_the_hook():
    """Configs replace ``custom_hooks`` wholesale: none may lose it."""
    missing = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs/**/*.py'))):
        if '/_base_/' in path:
            continue
        cfg = Config.fromfile(path)
        if 'train_cfg' in cfg and not any(
                h.get('type') == 'NonFiniteLossHook'
                for h in cfg.get('custom_hooks', [])):
            missing.append(osp.relpath(path, ROOT))
    assert not missing


def _train(camus_root, work_dir, *extra):
    """DLIR on the 64 x 64 phantom, batch 4, at the lr of the probe."""
    cmd = [
        sys.executable, 'tools/train.py', REG_CFG, '--work-dir',
        str(work_dir), '--data-root', camus_root, '--cfg-options'
    ] + small_registration_overrides(
        20, 'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'randomness.seed=0',
        'optim_wrapper.optimizer.lr=0.05', *extra)
    return subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_diverging_training_stops_cleanly_and_keeps_the_checkpoint(
        camus_root, tmp_path):
    """The probe's crash: DLIR at lr 0.05 (the config's optimizer lr is
    1e-3). On this phantom (seed 0) the loss is still finite at iteration 2
    (a few hundred) but that step makes every parameter NaN; before the fix
    iteration 3 died with SIGSEGV in grid_sample's backward. Now the hook
    stops the run at iteration 2, before CheckpointHook saves it."""
    out = _train(camus_root, tmp_path)
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-3000:]
    assert 'NonFiniteError: non-finite parameters after the step' in out.stderr
    assert 'at training iteration 2 (1-based' in out.stderr
    kept = str(tmp_path / 'iter_1.pth')
    assert f'the last checkpoint, {kept}, was saved' in out.stderr
    assert not osp.exists(tmp_path / 'iter_2.pth')
    model = MODELS.build(Config.fromfile(osp.join(ROOT, REG_CFG)).model)
    load_checkpoint(model, kept, map_location='cpu', strict=True)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.slow
def test_diverging_training_without_the_hook_fails_before_backward(
        camus_root, tmp_path):
    """``custom_hooks=[]`` (a config that dropped the hook): the NaN model
    of iteration 2 is saved, and iteration 3 stops at the registrator's
    check instead of segfaulting in grid_sample's backward."""
    out = _train(camus_root, tmp_path, 'custom_hooks=[]')
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-3000:]
    assert ('NonFiniteError: displacement predicted by BSplineRegistrationNet'
            in out.stderr)
    assert 'at training iteration 3 (1-based' in out.stderr
