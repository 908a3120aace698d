# Copyright (c) mmecho contributors. All rights reserved.
"""The ``mmecho`` registry scope.

Every registry here has scope ``'mmecho'`` and sits under mmengine's root
registry, beside mmdet's and mmseg's. A name without a scope prefix is looked
up, in this order, in mmecho, mmdet (and through it mmengine/mmcv) and then
mmsegmentation. So a config with ``default_scope = 'mmecho'`` reaches every
mmdet and mmseg component without prefixes.

Where mmdet and mmseg register the same name (``LoadAnnotations``,
``RandomFlip``, ``RandomCrop``, ``PhotoMetricDistortion``, ``ResNet``...)
mmdet's wins; write ``'mmseg.LoadAnnotations'`` to get mmseg's. Configs with
``default_scope = 'mmdet'`` or ``'mmseg'`` plus
``custom_imports = dict(imports=['mmecho'])`` reach mmecho components as
``'mmecho.Name'``.
"""
from typing import Optional, Sequence, Type

from mmdet import registry as mmdet_registry
from mmengine import registry as mmengine_registry
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'EchoRegistry'
]


class EchoRegistry(Registry):
    """A registry of scope ``mmecho`` that searches mmdet, then mmseg.

    Args:
        name (str): Registry name, e.g. ``'model'``.
        parent (Registry): mmengine's root registry of the same kind.
        search_after (Sequence[Registry]): Registries asked, in order, for a
            name without scope prefix that mmecho itself does not hold.
        locations (list[str]): Modules imported lazily to fill the registry.
    """

    def __init__(self,
                 name: str,
                 parent: Registry,
                 search_after: Sequence[Registry] = (),
                 locations: Optional[list] = None) -> None:
        super().__init__(
            name, parent=parent, scope='mmecho', locations=locations or [])
        self._search_after = tuple(search_after)

    def get(self, key: str) -> Optional[Type]:
        if not isinstance(key, str):
            return super().get(key)
        scope, real_key = self.split_scope_key(key)
        if scope is not None:
            return super().get(key)
        self.import_from_location()
        if real_key in self._module_dict:
            return self._module_dict[real_key]
        for registry in self._search_after:
            obj = registry.get(real_key)
            if obj is not None:
                return obj
        # mmengine's root, then a dotted import path.
        return super().get(key)


def _make(name: str, attr: str, locations: Optional[list] = None):
    search_after = [getattr(mmdet_registry, attr)]
    if hasattr(mmseg_registry, attr):
        search_after.append(getattr(mmseg_registry, attr))
    return EchoRegistry(
        name,
        parent=getattr(mmengine_registry, attr),
        search_after=search_after,
        locations=locations)


RUNNERS = _make('runner', 'RUNNERS', ['mmecho.engine'])
RUNNER_CONSTRUCTORS = _make('runner constructor', 'RUNNER_CONSTRUCTORS')
LOOPS = _make('loop', 'LOOPS', ['mmecho.engine'])
HOOKS = _make('hook', 'HOOKS', ['mmecho.engine.hooks'])
DATASETS = _make('dataset', 'DATASETS', ['mmecho.datasets'])
DATA_SAMPLERS = _make('data sampler', 'DATA_SAMPLERS', ['mmecho.datasets'])
TRANSFORMS = _make('transform', 'TRANSFORMS', ['mmecho.datasets'])
MODELS = _make('model', 'MODELS', ['mmecho.models'])
MODEL_WRAPPERS = _make('model_wrapper', 'MODEL_WRAPPERS',
                       ['mmecho.engine.model_wrappers'])
WEIGHT_INITIALIZERS = _make('weight initializer', 'WEIGHT_INITIALIZERS')
OPTIMIZERS = _make('optimizer', 'OPTIMIZERS', ['mmecho.engine'])
OPTIM_WRAPPERS = _make('optim_wrapper', 'OPTIM_WRAPPERS', ['mmecho.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _make('optimizer wrapper constructor',
                                   'OPTIM_WRAPPER_CONSTRUCTORS',
                                   ['mmecho.engine'])
PARAM_SCHEDULERS = _make('parameter scheduler', 'PARAM_SCHEDULERS',
                         ['mmecho.engine'])
METRICS = _make('metric', 'METRICS', ['mmecho.evaluation'])
EVALUATOR = _make('evaluator', 'EVALUATOR', ['mmecho.evaluation'])
TASK_UTILS = _make('task util', 'TASK_UTILS', ['mmecho.models'])
VISUALIZERS = _make('visualizer', 'VISUALIZERS', ['mmecho.visualization'])
VISBACKENDS = _make('vis_backend', 'VISBACKENDS', ['mmecho.visualization'])
LOG_PROCESSORS = _make('log_processor', 'LOG_PROCESSORS', ['mmecho.engine'])
