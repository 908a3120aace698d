"""tools/analysis_tools/benchmark_grid_speed.py times a grid cell and prints
its Markdown table row (mmecho only: smp is not a dependency)."""
import os
import re
import subprocess
import sys

from ..conftest import ROOT


def test_grid_speed_table_without_peer():
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = subprocess.run([
        sys.executable, 'tools/analysis_tools/benchmark_grid_speed.py',
        '--cells', 'linknet:mbv2', '--batch', '1', '--size', '64', '--rounds',
        '1', '--iters', '1', '--warmup', '0', '--peer', 'none', '--device',
        'cpu'
    ],
                         cwd=ROOT,
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    header = '| architecture | encoder | params M | train img/s | infer img/s |'
    assert header in out.stdout
    rows = [
        line for line in out.stdout.splitlines()
        if line.startswith('| LinkNet | MobileNetV2 |')
    ]
    assert len(rows) == 1, out.stdout
    values = [v.strip() for v in rows[0].strip('|').split('|')][2:]
    assert len(values) == 3, rows[0]
    for v in values:
        assert re.fullmatch(r'\d+\.\d+', v), rows[0]
        assert float(v) > 0
    # smp's LinkNet x MobileNetV2 has 4.32 M parameters: the same network
    assert abs(float(values[0]) - 4.32) < 0.01
    assert 'mmecho only' in out.stdout
