# Copyright (c) mmecho contributors. All rights reserved.
"""Checkpoint loading for torch>=2.6 with mmengine 0.10.7.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
calls ``torch.load`` without the flag, and its checkpoints hold more than
tensors (``message_hub``, ``HistoryBuffer``, numpy scalars, the config
text), so ``Runner.resume`` and ``load_checkpoint`` fail with
``UnpicklingError: Weights only load failed``.

mmecho replaces mmengine's loader for local files (the scheme with the empty
prefix, which ``Runner.resume``, ``Runner.load_checkpoint`` and
``mmengine.runner.load_checkpoint`` all go through) by one that passes
``weights_only=False``. This restores the behaviour mmengine was written for
(torch<2.6): a checkpoint is a pickle and is trusted like code, so only load
checkpoints you made or got from a source you trust. Importing :mod:`mmecho`
installs the loader; no environment variable is needed.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_INSTALLED = False


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Load a local checkpoint written by mmengine (or any ``torch.save``).

    Args:
        filename (str): Path to the ``.pth`` file (``~`` is expanded).
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The unpickled checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def install_checkpoint_loader() -> None:
    """Register :func:`load_local_checkpoint` for local paths (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    _INSTALLED = True
