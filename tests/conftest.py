import importlib.util
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def load_tool(rel_path: str):
    """The module of a script under the repository root (``tools/...py``),
    imported from its file (the tools are scripts, not a package)."""
    name = osp.splitext(osp.basename(rel_path))[0]
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(ROOT, rel_path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def small_registration_overrides(max_iters: int, *extra: str) -> list:
    """``--cfg-options`` of a short registration run on a phantom: every
    patient, 64 x 64 frames, batch 4, no worker processes (pass the phantom
    with ``--data-root``)."""
    return [
        'train_dataloader.dataset.split=None',
        'val_dataloader.dataset.split=None',
        'train_dataloader.dataset.size=(64,64)',
        'val_dataloader.dataset.size=(64,64)', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}'
    ] + list(extra)


@pytest.fixture(scope='session')
def meis_root(tmp_path_factory):
    from mmecho.phantoms import make_meis_phantom
    root = tmp_path_factory.mktemp('meis')
    make_meis_phantom(str(root), num=12, seed=3)
    return str(root)


@pytest.fixture(scope='session')
def camus_root(tmp_path_factory):
    from mmecho.phantoms import make_camus_phantom
    root = tmp_path_factory.mktemp('camus')
    make_camus_phantom(
        str(root), num=4, seed=1, shape=(128, 96), spacing=(1.2, 1.6))
    return str(root)


@pytest.fixture(scope='session')
def camus_mhd_root(tmp_path_factory):
    from mmecho.phantoms import make_camus_phantom
    root = tmp_path_factory.mktemp('camus_mhd')
    make_camus_phantom(
        str(root),
        num=4,
        seed=1,
        shape=(128, 96),
        spacing=(1.2, 1.6),
        release='mhd')
    return str(root)


@pytest.fixture(scope='session')
def mnms_root(tmp_path_factory):
    from mmecho.phantoms import make_mnms_phantom
    root = tmp_path_factory.mktemp('mnms')
    make_mnms_phantom(str(root), num=4, seed=2)
    return str(root)


@pytest.fixture(autouse=True, scope='session')
def _mmecho_scope():
    from mmecho.utils import register_all_modules
    register_all_modules()


@pytest.fixture(scope='session')
def repo_root():
    """Absolute path of the repository root (``ROOT``), e.g. for config
    paths: ``osp.join(repo_root, 'configs', ...)``."""
    return ROOT
