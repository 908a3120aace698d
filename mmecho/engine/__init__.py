# Copyright (c) mmecho contributors. All rights reserved.
from .checkpoint import install_checkpoint_loader, load_local_checkpoint
from .distributed import prepare_distributed_cfg, shutdown_distributed
from .hooks import EchoSegVisualizationHook
from .model_wrappers import DeviceAwareDistributedDataParallel

__all__ = [
    'install_checkpoint_loader', 'load_local_checkpoint',
    'prepare_distributed_cfg', 'shutdown_distributed',
    'EchoSegVisualizationHook', 'DeviceAwareDistributedDataParallel'
]
