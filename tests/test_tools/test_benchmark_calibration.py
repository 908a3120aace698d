"""tools/analysis_tools/benchmark_calibration.py prints its figures and never
counts a refusal as calibrated."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_benchmark_reports_calibrated_and_wrong(capsys):
    spec = importlib.util.spec_from_file_location(
        'benchmark_calibration',
        osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_calibration.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(['--num', '12', '--seed', '700'])
    out = capsys.readouterr().out
    assert 'calibrated:' in out and 'wrong by more than 2 %: 0' in out
    assert res['n'] == 12 and res['wrong'] == 0
    assert res['within_1'] <= res['calibrated'] <= 12
    assert res['calibrated'] >= 11  # the renderer's styles are readable
    assert res['worst'] < 1.0
