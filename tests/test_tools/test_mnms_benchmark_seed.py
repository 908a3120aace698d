"""tools/mnms_benchmark.py --seed: both trainings get randomness.seed, and
a work dir finished with another seed is refused (the phantom is fixed)."""
import importlib.util
import json
import os.path as osp

import pytest

from ..conftest import ROOT


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'mnms_benchmark', osp.join(ROOT, 'tools/mnms_benchmark.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_seed_reaches_both_trainings(tool, tmp_path, monkeypatch):
    calls = []

    def fake_run_tool(cmd, log):
        calls.append(cmd)
        work = cmd[cmd.index('--work-dir') + 1]
        with open(osp.join(work, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(work, 'iter_2.pth'))

    def fake_train_and_test(config, work, opts, log, tag):
        calls.append(list(opts))
        return dict(config=config, metrics={})

    monkeypatch.setattr(tool, 'run_tool', fake_run_tool)
    monkeypatch.setattr(tool, 'train_and_test', fake_train_and_test)
    args = tool.parse_args(['--work-dir', str(tmp_path), '--seed', '3'])
    tool.step_registration(args, str(tmp_path / 'log'))
    tool.step_unet(args, 'baseline', args.unet_config, None,
                   str(tmp_path / 'log'))
    assert all('randomness.seed=3' in c for c in calls) and len(calls) == 2
    assert json.load(open(tmp_path / 'baseline' / 'result.json'))['seed'] == 3
    # finished with seed 3: skipped for seed 3, refused for another seed
    assert tool.step_registration(args, 'log').endswith('iter_2.pth')
    other = tool.parse_args(['--work-dir', str(tmp_path), '--seed', '4'])
    with pytest.raises(SystemExit, match='seed 3, not 4'):
        tool.step_registration(other, 'log')
    with pytest.raises(SystemExit, match='seed 3, not 4'):
        tool.step_unet(other, 'baseline', other.unet_config, None, 'log')
    # without --seed: the configs' own, nothing added
    calls.clear()
    plain = tool.parse_args(['--work-dir', str(tmp_path / 'plain')])
    tool.step_registration(plain, str(tmp_path / 'log'))
    assert not any('randomness' in o for o in calls[0])
