# Copyright (c) mmecho contributors. All rights reserved.
"""Multi-process training on machines without CUDA.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and the
Runner hands ``device_ids`` to DDP; both fail on CPU-only machines. For the
``pytorch`` launcher (torchrun) without CUDA, :func:`prepare_distributed_cfg`
initialises a gloo process group *before* the Runner is built (the Runner
then skips its own ``init_dist``) and selects
:class:`DeviceAwareDistributedDataParallel` as model wrapper.
"""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config

CPU_DDP_WRAPPER = 'mmecho.DeviceAwareDistributedDataParallel'


def prepare_distributed_cfg(cfg: Config, launcher: str) -> Config:
    """Adapt ``cfg`` (in place) for ``launcher`` on the current machine.

    Args:
        cfg (Config): The experiment config; ``cfg.launcher`` is set.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        Config: ``cfg``.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher={launcher!r} needs CUDA; on a CPU-only machine use '
            'torchrun (launcher=pytorch), which mmecho runs with gloo.')
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                'MASTER_PORT'):
        if var not in os.environ:
            raise RuntimeError(
                f'launcher=pytorch but the environment variable {var} is not '
                'set: start the job with torchrun (tools/dist_train.sh).')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = dict(env_cfg.get('dist_cfg', {}))
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get('type', 'MMDistributedDataParallel') in (
            'MMDistributedDataParallel', 'mmengine.MMDistributedDataParallel'):
        wrapper = dict(wrapper)
        wrapper['type'] = CPU_DDP_WRAPPER
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters',
                           cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper
    return cfg


def shutdown_distributed(success: bool = False) -> None:
    """Tear down a multi-process run at its end.

    All ranks first meet at a barrier so that none leaves while another is
    still writing a checkpoint or a log.

    After a *successful* run on a gloo group that mmecho created (torchrun
    without CUDA), the process then ends with ``os._exit(0)`` once stdout,
    stderr and the log handlers are flushed. Ending normally runs the C++
    static destructors of gloo/c10d, and in about one run in ten one rank
    aborts there (``terminate called without an active exception``,
    SIGABRT) after its work is done, which torchrun reports as a failed job;
    tearing the group down with ``destroy_process_group`` first does not
    prevent it. Failed runs (``success=False``) destroy the group and let
    the exception propagate as usual.

    Args:
        success (bool): Whether the run finished without an exception.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    cpu_gloo = (not torch.cuda.is_available() and dist.get_backend() == 'gloo')
    try:
        dist.barrier()
    finally:
        if not (success and cpu_gloo):
            dist.destroy_process_group()
    if success and cpu_gloo:
        import logging
        import sys
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
