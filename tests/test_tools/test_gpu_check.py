"""tools/analysis_tools/gpu_check.py: the reduced mode on the CPU prints
every row (GPU-only ones skipped) and writes the same table to --out."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys
import types

import pytest
import torch

from ..conftest import ROOT

TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'gpu_check.py')

ROWS = [
    'MEIS train fp32 (UPANet80 maYOLACT): time per iteration',
    'MEIS train fp32 (UPANet80 maYOLACT): throughput',
    'MEIS train fp32 (UPANet80 maYOLACT): peak GPU memory',
    'MEIS train AMP (UPANet80 maYOLACT): time per iteration',
    'MEIS train AMP (UPANet80 maYOLACT): throughput',
    'MEIS train AMP (UPANet80 maYOLACT): peak GPU memory',
    'network FPS UPANet80 maYOLACT fp32',
    'network FPS YOLACT-R50 fp32',
    'network FPS UPANet80 maYOLACT fp16',
    'network FPS YOLACT-R50 fp16',
    'U-Net-R34 train',
    'U-Net-R34 inference',
    'DeepLabV3+-EffB3 train',
    'DeepLabV3+-EffB3 inference',
    'pseudo-labels DLIR B-spline (paper 001)',
    'pseudo-labels VoxelMorph (paper 003)',
]
# skipped on a CPU: AMP, fp16 and GPU memory
GPU_ONLY = ('AMP', 'fp16', 'GPU memory')


def load_tool():
    spec = importlib.util.spec_from_file_location('gpu_check_tool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def table_rows(text):
    rows = {}
    for line in text.splitlines():
        if not line.startswith('| ') or line.startswith('| what |'):
            continue
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        assert len(cells) == 4, line
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.slow
def test_reduced_mode_on_cpu(tmp_path):
    work = tmp_path / 'work'
    out = tmp_path / 'table.md'
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([
        sys.executable, TOOL, '--reduced', '--device', 'cpu', '--work-dir',
        str(work), '--out',
        str(out)
    ],
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.stdout[-4000:] + proc.stderr[-4000:])
    stdout = proc.stdout
    print(stdout)  # the table, for pytest -s
    header = [ln for ln in stdout.splitlines() if '**gpu_check**' in ln]
    assert len(header) == 1, stdout
    assert 'device: cpu' in header[0]
    assert f'torch {torch.__version__}' in header[0]
    assert 'mode: reduced' in header[0]

    rows = table_rows(stdout)
    assert set(ROWS) <= set(rows), sorted(set(ROWS) - set(rows))
    for what in ROWS:
        setting, value, unit = rows[what]
        assert setting and unit
        if any(k in what for k in GPU_ONLY):
            assert value == 'skipped (no CUDA)', (what, value)
        else:
            assert re.fullmatch(r'\d+(\.\d+)?', value), (what, value)
            assert float(value) > 0, (what, value)
    assert 'error' not in stdout

    assert out.is_file()
    text = out.read_text()
    assert header[0] in text
    assert table_rows(text) == rows
    # the phantom and the training work dir went under --work-dir
    assert (work / 'meis_phantom' / 'Allmode_train.json').is_file()


def test_mode_choice(monkeypatch):
    tool = load_tool()

    def args(**kw):
        return types.SimpleNamespace(**{
            'device': 'auto',
            'reduced': False,
            **kw
        })

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    device, mode, note = tool.resolve_mode(args())
    assert (device, mode) == ('cpu', 'reduced') and 'reduced' in note
    assert tool.resolve_mode(args(device='cpu'))[:2] == ('cpu', 'full')
    with pytest.raises(SystemExit):
        tool.resolve_mode(args(device='cuda'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert tool.resolve_mode(args()) == ('cuda', 'full', None)
    assert tool.resolve_mode(args(reduced=True))[:2] == ('cuda', 'reduced')
    assert tool.row_names() == ROWS


def test_failed_row_reports_error_and_keeps_the_rest(tmp_path, capsys):
    tool = load_tool()
    out = tmp_path / 'partial.md'
    table = tool.Table('**gpu_check** device: cpu', str(out))

    def ok(add):
        add('first', 1.5, 'images/s')

    def broken(add):
        add('second', 2.0, 'FPS')
        raise RuntimeError('CUDA out of memory | tried 9 GiB\nmore')

    tool.section(table, ['first'], 'setting', ok, 'cpu')
    assert not table.failed
    tool.section(table, ['second', 'third'], 'setting', broken, 'cpu')
    assert table.failed
    rows = table_rows(out.read_text())
    assert rows['first'] == ['setting', '1.50', 'images/s']
    assert rows['second'] == ['setting', '2.00', 'FPS']
    assert rows['third'][1] == ('error: RuntimeError: CUDA out of memory / '
                                'tried 9 GiB')
    assert 'third' in capsys.readouterr().out
