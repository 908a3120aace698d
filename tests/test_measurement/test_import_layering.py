"""``mmecho.measurement`` is numpy/OpenCV geometry: importing it must not
load mmdet, mmseg or the dataset stack (no import cycle datasets <->
measurement)."""
import subprocess
import sys

from ..conftest import ROOT


def _loaded_after(module: str) -> set:
    code = (f'import sys, {module}; '
            "print(' '.join(m for m in ('mmdet', 'mmseg', 'mmecho.datasets',"
            " 'mmecho.models') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         check=True)
    return set(out.stdout.split())


def test_measurement_imports_without_the_training_stack():
    assert _loaded_after('mmecho.measurement') == set()


def test_package_import_is_light_and_errors_are_a_leaf():
    assert _loaded_after('mmecho') == set()
    assert _loaded_after('mmecho.errors') == set()


def test_phantoms_import_without_the_training_stack():
    """The renderers are numpy/OpenCV; the dataset file formats they write
    are imported only when a phantom is written."""
    assert _loaded_after('mmecho.phantoms') == set()
