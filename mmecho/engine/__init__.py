# Copyright (c) mmecho contributors. All rights reserved.
from .checkpoint import (CheckpointError, CheckpointMismatchError,
                         UntrustedCheckpointError, add_checkpoint_args,
                         apply_checkpoint_args, check_state_dict_fits,
                         install_checkpoint_loader, load_local_checkpoint,
                         load_model_weights, run_tool, verify_checkpoint)
from .distributed import prepare_distributed_cfg, shutdown_distributed
from .hooks import EchoSegVisualizationHook
from .model_wrappers import DeviceAwareDistributedDataParallel

__all__ = [
    'install_checkpoint_loader', 'load_local_checkpoint', 'CheckpointError',
    'CheckpointMismatchError', 'UntrustedCheckpointError',
    'add_checkpoint_args', 'apply_checkpoint_args', 'check_state_dict_fits',
    'load_model_weights', 'run_tool', 'verify_checkpoint',
    'prepare_distributed_cfg', 'shutdown_distributed',
    'EchoSegVisualizationHook', 'DeviceAwareDistributedDataParallel'
]
