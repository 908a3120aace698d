"""Checkpoints are data: loading one never runs code from it, and weights
of another model are refused (issue 15, points 1-3)."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmecho.engine.checkpoint import (CheckpointMismatchError,
                                      UntrustedCheckpointError,
                                      check_state_dict_fits,
                                      load_local_checkpoint)
from mmecho.registration.pseudo_labels import (CAMUSAdapter, Propagation,
                                               generate_pseudo_labels,
                                               load_registration_model,
                                               model_identity)
from mmecho.registry import MODELS
from ..conftest import ROOT

SEG_CFG = 'configs/camus/fcn_unet-tiny_camus-phantom.py'
REG_CFG = 'configs/registration/bspline_dlir_camus-phantom.py'
DET_CFG = 'configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py'


class _RunsCode:
    """Unpickling calls ``os.system`` (what the probe's file did)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class Benign:
    """A class of this test module: not a type mmengine writes."""

    def __init__(self, value=3):
        self.value = value


def _model(config):
    return MODELS.build(Config.fromfile(osp.join(ROOT, config)).model)


def _save(path, state_dict, **extra):
    torch.save(dict(meta=dict(iter=1), state_dict=state_dict, **extra), path)
    return str(path)


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / 'code_ran'
    path = _save(tmp_path / 'evil.pth', {}, payload=_RunsCode(str(marker)))
    return path, marker


def _run(args, timeout=300, env=None):
    return subprocess.run([sys.executable] + args,
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=env)


def test_loader_refuses_code_and_names_the_type(evil):
    path, marker = evil
    with pytest.raises(UntrustedCheckpointError) as e:
        load_local_checkpoint(path)
    assert 'posix.system' in str(e.value) or 'os.system' in str(e.value)
    assert '--trust-checkpoint' in str(e.value)
    assert 'MMECHO_TRUST_CHECKPOINTS' in str(e.value)
    assert not marker.exists()


def test_trust_is_an_explicit_opt_in(tmp_path, monkeypatch):
    path = _save(tmp_path / 'custom.pth', {}, extra=Benign(7))
    with pytest.raises(UntrustedCheckpointError, match='Benign'):
        load_local_checkpoint(path)
    assert load_local_checkpoint(path, trust=True)['extra'].value == 7
    monkeypatch.setenv('MMECHO_TRUST_CHECKPOINTS', '1')
    assert load_local_checkpoint(path)['extra'].value == 7


def test_getattr_only_reaches_history_buffer_statistics(tmp_path):
    """mmengine pickles HistoryBuffer's statistics with ``getattr``; the
    loader must not become a general ``getattr``."""
    from mmengine.logging import HistoryBuffer

    class GetattrOther:

        def __init__(self, name):
            self.name = name

        def __reduce__(self):
            return (getattr, (HistoryBuffer, self.name))

    for name in ('mro', '__init__', '_set_default_statistics'):
        path = _save(tmp_path / 'getattr.pth', {}, x=GetattrOther(name))
        with pytest.raises(pickle.UnpicklingError):
            load_local_checkpoint(path)
    path = _save(tmp_path / 'ok.pth', {}, x=GetattrOther('mean'))
    assert load_local_checkpoint(path)['x'] is HistoryBuffer.mean


@pytest.mark.parametrize('tool', ['test', 'measure', 'pseudo', 'demo'])
def test_tools_refuse_a_malicious_checkpoint(tool, evil, tmp_path,
                                             camus_root, meis_root):
    path, marker = evil
    image = osp.join(meis_root, 'raw_image',
                     sorted(os.listdir(osp.join(meis_root, 'raw_image')))[0])
    args = {
        'test': [
            'tools/test.py', SEG_CFG, path, '--work-dir',
            str(tmp_path / 'w'), '--data-root', camus_root
        ],
        'measure': [
            'tools/measure.py', DET_CFG, path, image, '--out',
            str(tmp_path / 'm')
        ],
        'pseudo': [
            'tools/generate_pseudo_labels.py', REG_CFG, path, camus_root,
            '--out',
            str(tmp_path / 'p')
        ],
        'demo': [
            'demo/image_demo.py', image, DET_CFG, '--weights', path,
            '--out-dir',
            str(tmp_path / 'd')
        ],
    }[tool]
    out = _run(args)
    assert out.returncode == 1, out.stderr[-2000:]
    assert 'refused to load' in out.stderr and \
        '--trust-checkpoint' in out.stderr, out.stderr[-2000:]
    assert 'Traceback' not in out.stderr
    assert not marker.exists()


def test_state_dict_check_counts_and_names():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
        torch.nn.Conv2d(4, 2, 1))
    own = model.state_dict()
    # the model's own weights fit (num_batches_tracked may be absent)
    fits = {
        k: v
        for k, v in own.items() if not k.endswith('num_batches_tracked')
    }
    assert check_state_dict_fits(model, fits)['missing'] == []
    partial = {k: v for k, v in own.items() if not k.startswith('2.')}
    partial['0.weight'] = torch.zeros(4, 1, 5, 5)
    partial['extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as e:
        check_state_dict_fits(model, partial, 'x.pth')
    msg = str(e.value)
    assert 'x.pth' in msg and '2 of the model\'s 9 tensors are missing' in msg
    assert '2.weight' in msg and '0.weight: (4, 1, 5, 5)' in msg
    assert '--allow-partial-checkpoint' in msg
    report = check_state_dict_fits(model, partial, allow_partial=True)
    assert sorted(report['missing']) == ['2.bias', '2.weight']
    assert report['unexpected'] == ['extra.weight']


def test_test_tool_refuses_another_models_weights(tmp_path, camus_root):
    """The probe: test.py evaluated random weights with exit 0."""
    other = _save(tmp_path / 'reg.pth', _model(REG_CFG).state_dict())
    args = [
        'tools/test.py', SEG_CFG, other, '--work-dir',
        str(tmp_path / 'w'), '--data-root', camus_root
    ]
    out = _run(args)
    assert out.returncode == 1
    assert 'does not fit' in out.stderr and 'tensors are missing' in \
        out.stderr, out.stderr[-2000:]
    # the way out for fine-tuning
    seg = _model(SEG_CFG).state_dict()
    half = {k: v for i, (k, v) in enumerate(seg.items()) if i % 2}
    ok = _run(args[:2] + [_save(tmp_path / 'half.pth', half)] + args[3:] +
              ['--allow-partial-checkpoint', '--cfg-options',
               'test_dataloader.dataset.split=None'])
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_pseudo_labels_refuse_an_empty_state_dict(tmp_path):
    empty = _save(tmp_path / 'empty.pth', {})
    with pytest.raises(CheckpointMismatchError, match='tensors are missing'):
        load_registration_model(osp.join(ROOT, REG_CFG), empty)


def test_resumed_pseudo_labels_never_mix_models(camus_root, tmp_path):
    """The probe: a rerun with another checkpoint kept 2 files of the first
    model, wrote 6 of the second, and the manifest named only the second."""
    a = _save(tmp_path / 'a.pth', {'w': torch.zeros(1)})
    b = _save(tmp_path / 'b.pth', {'w': torch.ones(1)})
    cfg = osp.join(ROOT, REG_CFG)
    id_a, id_b = model_identity(cfg, a), model_identity(cfg, b)
    assert id_a['checkpoint_sha256'] != id_b['checkpoint_sha256']
    assert id_a['config_sha256'] == id_b['config_sha256']

    def zero(fixed, moving):
        return torch.zeros(fixed.shape[0], 2, *fixed.shape[-2:])

    out = str(tmp_path / 'pseudo')
    common = dict(
        propagation=Propagation(mode='forward', size=(32, 32)),
        progress=False)
    pids = sorted(os.listdir(osp.join(camus_root, 'database_nifti')))

    def patients(split):
        return CAMUSAdapter(camus_root, split=split, views=('2CH', ))

    first = generate_pseudo_labels(
        patients(pids[:1]), zero, out, model_info=id_a, **common)
    assert first['written'] == 1
    with pytest.raises(ValueError, match='another model'):
        generate_pseudo_labels(
            patients(pids), zero, out, model_info=id_b, **common)
    # the same model resumes; --overwrite regenerates with the new one
    again = generate_pseudo_labels(
        patients(pids[:2]), zero, out, model_info=id_a, **common)
    assert (again['written'], again['skipped']) == (1, 1)
    generate_pseudo_labels(
        patients(pids[:2]),
        zero,
        out,
        model_info=id_b,
        overwrite=True,
        **common)
    import json
    manifest = json.load(open(osp.join(out, 'pseudo_labels.json')))
    hashes = {
        rec['model']['checkpoint_sha256']
        for rec in manifest['files'].values()
    }
    assert hashes == {id_b['checkpoint_sha256']}
