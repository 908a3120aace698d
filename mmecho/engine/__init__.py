# Copyright (c) mmecho contributors. All rights reserved.
from .checkpoint import (CheckpointError, CheckpointMismatchError,
                         UntrustedCheckpointError, add_checkpoint_args,
                         apply_checkpoint_args, check_state_dict_fits,
                         install_checkpoint_loader, load_local_checkpoint,
                         load_model_weights, run_tool, verify_checkpoint)
from .distributed import prepare_distributed_cfg, shutdown_distributed

# The hooks and model wrappers register themselves in the mmecho registry,
# which loads mmdet and mmseg; ``import mmecho`` (which installs the
# checkpoint loader) must not, so they are imported on first use here and by
# ``register_all_modules``.
_LAZY = dict(
    EchoSegVisualizationHook='.hooks',
    DeviceAwareDistributedDataParallel='.model_wrappers')


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'install_checkpoint_loader', 'load_local_checkpoint', 'CheckpointError',
    'CheckpointMismatchError', 'UntrustedCheckpointError',
    'add_checkpoint_args', 'apply_checkpoint_args', 'check_state_dict_fits',
    'load_model_weights', 'run_tool', 'verify_checkpoint',
    'prepare_distributed_cfg', 'shutdown_distributed',
    'EchoSegVisualizationHook', 'DeviceAwareDistributedDataParallel'
]
