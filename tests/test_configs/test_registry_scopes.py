"""Configs name cross-library components with their scope (``mmdet.X``,
``mmseg.X``), as mmyolo does: a bare name must be mmecho's own or
mmengine's, never one that mmdet or mmseg registers (eight names exist in
both, and the bare one silently resolved to mmdet's)."""
import glob
import os.path as osp

import pytest
from mmengine import Config

from mmecho.utils import register_all_modules

from ..conftest import ROOT

register_all_modules()

import mmdet.datasets  # noqa: E402,F401
import mmdet.engine  # noqa: E402,F401
import mmdet.evaluation  # noqa: E402,F401
import mmdet.models  # noqa: E402,F401
import mmdet.visualization  # noqa: E402,F401
import mmseg.datasets  # noqa: E402,F401
import mmseg.engine  # noqa: E402,F401
import mmseg.evaluation  # noqa: E402,F401
import mmseg.models  # noqa: E402,F401
import mmseg.visualization  # noqa: E402,F401
from mmdet import registry as mmdet_registry  # noqa: E402
from mmengine import registry as mmengine_registry  # noqa: E402
from mmseg import registry as mmseg_registry  # noqa: E402

from mmecho import registry as mmecho_registry  # noqa: E402

KINDS = [n for n in mmecho_registry.__all__ if n.isupper()]


def _names(module, kinds=KINDS):
    out = set()
    for kind in kinds:
        reg = getattr(module, kind, None)
        if reg is not None:
            out |= set(reg.module_dict)
    return out


OWN = _names(mmecho_registry)
ENGINE = _names(mmengine_registry, KINDS + ['FUNCTIONS'])
LIBS = dict(mmdet=_names(mmdet_registry), mmseg=_names(mmseg_registry))
# ``nms=dict(type='nms')`` names an mmcv op, not a registered class
NOT_REGISTRY_KEYS = ('nms', )


def unscoped_library_names(cfg: dict) -> list:
    """``(bare name, libraries that register it)`` for every ``type`` of a
    config that is neither mmecho's nor mmengine's."""
    found = []

    def walk(obj, key=None):
        if isinstance(obj, dict):
            t = obj.get('type')
            if isinstance(t, str) and '.' not in t and \
                    key not in NOT_REGISTRY_KEYS and t not in OWN and \
                    t not in ENGINE:
                found.append((t, [k for k, v in LIBS.items() if t in v]))
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v, key)

    walk(cfg)
    return found


def scoped_names(cfg: dict) -> list:
    found = []

    def walk(obj):
        if isinstance(obj, dict):
            t = obj.get('type')
            if isinstance(t, str) and '.' in t:
                found.append(t)
            for v in obj.values():
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    walk(cfg)
    return found


CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def test_the_checker_catches_a_name_both_libraries_register():
    cfg = dict(
        model=dict(
            type='EchoEncoderDecoder',
            neck=dict(type='FPN'),
            loss=[dict(type='CrossEntropyLoss'),
                  dict(type='mmseg.DiceLoss')]),
        optim_wrapper=dict(type='OptimWrapper'),
        test_cfg=dict(nms=dict(type='nms')))
    found = dict(unscoped_library_names(cfg))
    assert found == {
        'FPN': ['mmdet', 'mmseg'],
        'CrossEntropyLoss': ['mmdet', 'mmseg']
    }


def test_every_config_is_found():
    assert len(CONFIGS) > 200
    assert 'configs/meis/rtm_assigner.py' in CONFIGS


@pytest.mark.parametrize('path', CONFIGS)
def test_config_names_library_components_with_their_scope(path):
    cfg = Config.fromfile(osp.join(ROOT, path)).to_dict()
    bare = unscoped_library_names(cfg)
    assert not bare, (
        f'{path}: name these with their scope (mmdet.X / mmseg.X): {bare}')
    for name in scoped_names(cfg):
        scope, key = name.split('.', 1)
        if scope in LIBS:
            assert key in LIBS[scope], f'{path}: {name} is not in {scope}'
