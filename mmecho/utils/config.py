# Copyright (c) mmecho contributors. All rights reserved.
import os.path as osp
from typing import Any, Optional

from mmengine.config import Config

#: config keys whose values are rewritten by :func:`apply_data_root`
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_EVALUATORS = ('val_evaluator', 'test_evaluator')


def _rebase(value: str, old_root: Optional[str], new_root: str) -> str:
    """``old_root/rest`` -> ``new_root/rest``; other strings unchanged."""
    if not old_root:
        return value
    old = old_root.rstrip('/')
    if value == old or value == old + '/':
        return new_root.rstrip('/') + ('/' if value.endswith('/') else '')
    if value.startswith(old + '/'):
        return osp.join(new_root, value[len(old) + 1:])
    return value


def _rewrite(node: Any, old_root: Optional[str], new_root: str) -> Any:
    """``node`` with every ``data_root`` set to ``new_root`` and every
    string path under the old root rebased (dicts and lists in place)."""
    if isinstance(node, str):
        return _rebase(node, old_root, new_root)
    if isinstance(node, dict):
        for key in list(node.keys()):
            node[key] = new_root if key == 'data_root' else _rewrite(
                node[key], old_root, new_root)
    elif isinstance(node, list):
        node[:] = [_rewrite(v, old_root, new_root) for v in node]
    elif isinstance(node, tuple):
        return type(node)(_rewrite(v, old_root, new_root) for v in node)
    return node


def apply_data_root(cfg: Config,
                    data_root: str,
                    old_root: Optional[str] = None) -> Config:
    """Point every dataloader and evaluator of ``cfg`` at ``data_root``.

    Configs set ``data_root`` once at the top and copy it into each
    dataset (``data_root=``) and into evaluator paths (``ann_file=data_root
    + '...'``) when they are parsed, so overriding the top-level variable
    alone changes nothing. This sets ``data_root`` of every dataset under
    ``{train,val,test}_dataloader`` (wrapped datasets included) and rebases
    every string under the old root (the top-level ``data_root``, or
    ``old_root``) in the dataloaders and ``{val,test}_evaluator``s, in place.

    Args:
        cfg (Config): The loaded config.
        data_root (str): The new dataset root.
        old_root (str, optional): The root the config's paths were built
            from; default ``cfg.data_root``.

    Returns:
        Config: ``cfg``.
    """
    old_root = old_root if old_root is not None else cfg.get('data_root')
    for key in _LOADERS + _EVALUATORS:
        if cfg.get(key) is not None:
            cfg[key] = _rewrite(cfg[key], old_root, data_root)
    cfg.data_root = data_root
    return cfg


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                data_root: Optional[str] = None) -> Config:
    """Load a config as mmdet's tools do: apply ``--cfg-options``, then use
    ``work_dir`` if given, else the config's own, else
    ``./work_dirs/<config name>``.

    ``data_root`` (``--data-root``), or a ``data_root=...`` among the
    ``cfg_options``, is applied to every dataloader and evaluator with
    :func:`apply_data_root` (the top-level variable alone is only read when
    the config is parsed)."""
    cfg = Config.fromfile(path)
    old_root = cfg.get('data_root')
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
        if data_root is None and 'data_root' in cfg_options:
            data_root = cfg_options['data_root']
    if data_root is not None:
        apply_data_root(cfg, data_root, old_root)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def build_model_from_config(config: str,
                            cfg_options: Optional[dict] = None):
    """``(model, cfg)``: the model of the config file ``config`` (after
    ``cfg_options``), built on the CPU in the config's default scope, as the
    weight converters in ``tools/model_converters/`` need it."""
    from mmengine.registry import init_default_scope

    from .setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    from mmecho.registry import MODELS
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmecho'))
    return MODELS.build(cfg.model), cfg
