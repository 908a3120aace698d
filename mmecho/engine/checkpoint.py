# Copyright (c) mmecho contributors. All rights reserved.
"""Checkpoint loading without trusting the file, for torch>=2.6 and
mmengine 0.10.7.

A ``.pth`` file is a pickle, and a pickle can call any function while it is
read. torch 2.6 made ``torch.load(weights_only=True)`` the default, which
refuses every global that is not on an allowlist; mmengine 0.10.7's
checkpoints hold a few more types than torch allows (the message hub's
``HistoryBuffer``, numpy arrays and scalars, and the ``getattr`` that
``HistoryBuffer`` pickles its statistics methods with).

mmecho replaces mmengine's loader for local files (the scheme with the empty
prefix, which ``Runner.resume``, ``Runner.load_checkpoint``,
``mmengine.runner.load_checkpoint`` and mmdet's ``init_detector`` all go
through) with :func:`load_local_checkpoint`: ``weights_only=True`` plus
exactly those types (:data:`MMENGINE_SAFE_GLOBALS`); ``getattr`` is replaced
by :func:`_history_buffer_getattr`, which only returns ``HistoryBuffer``'s
statistics methods. Anything else is refused with an
:class:`UntrustedCheckpointError` that names the types found. A user who
made the file, or trusts its source, opts in with ``--trust-checkpoint`` on
the tools or ``MMECHO_TRUST_CHECKPOINTS=1`` in the environment; then the
file is loaded as mmengine was written to load it (``weights_only=False``).

:func:`check_state_dict_fits` and :func:`load_model_weights` refuse weights
that do not belong to the model (missing tensors, other shapes) unless
``allow_partial`` is given (``--allow-partial-checkpoint``, for
fine-tuning).
"""
import os
import os.path as osp
import pickle
import re
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

#: environment variable that trusts every checkpoint (like --trust-checkpoint)
TRUST_ENV = 'MMECHO_TRUST_CHECKPOINTS'

_INSTALLED = False


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used as asked; the message says why and what
    to do. The tools turn it into a one-line error and a non-zero exit."""


class UntrustedCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The checkpoint holds types that loading would have to execute."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's tensors do not fit the model."""


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as mmengine's ``HistoryBuffer.__getstate__`` needs it
    (``getattr(HistoryBuffer, 'mean')`` and the other statistics methods),
    and nothing else."""
    statistics = {'min', 'max', 'current', 'mean'}
    statistics.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in statistics:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not an attribute an mmengine '
        'checkpoint needs')


def _numpy_globals() -> List:
    names = []
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            mod = __import__(module, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        names += [(mod._reconstruct, f'{module}._reconstruct'),
                  (mod.scalar, f'{module}.scalar')]
    dtype_classes = [
        type(np.dtype(t)) for t in ('b1', 'i1', 'i2', 'i4', 'i8', 'u1',
                                     'u2', 'u4', 'u8', 'f2', 'f4', 'f8')
    ]
    return names + [np.ndarray, np.dtype] + dtype_classes


#: the globals an mmengine 0.10.7 checkpoint holds beyond torch's own
#: allowlist (what ``torch.serialization.get_unsafe_globals_in_checkpoint``
#: lists for one written by ``Runner``); ``builtins.getattr`` is mapped to
#: :func:`_history_buffer_getattr`
MMENGINE_SAFE_GLOBALS = [
    HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
] + _numpy_globals()


def _allowed_names() -> set:
    names = set()
    for g in MMENGINE_SAFE_GLOBALS:
        if isinstance(g, tuple):
            names.add(g[1])
        else:
            names.add(f'{g.__module__}.{g.__qualname__}')
    return names


def checkpoints_trusted(trust: Optional[bool] = None) -> bool:
    """True when checkpoints may run code: ``trust`` if given, else the
    :data:`TRUST_ENV` environment variable (``1``/``true``/``yes``)."""
    if trust is not None:
        return bool(trust)
    return os.environ.get(TRUST_ENV, '').strip().lower() in ('1', 'true',
                                                             'yes')


def trust_checkpoints(trust: bool = True) -> None:
    """Set :data:`TRUST_ENV` for this process and its children (what the
    tools' ``--trust-checkpoint`` flag does)."""
    if trust:
        os.environ[TRUST_ENV] = '1'


def _refused_globals(filename: str, error: Exception) -> List[str]:
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        refused = sorted(set(found) - _allowed_names())
    except Exception:  # legacy (non-zip) file: use torch's message
        refused = []
    if not refused:
        refused = re.findall(r'GLOBAL ([\w.]+)', str(error))
    return refused or ['(see the unpickler message below)']


def load_local_checkpoint(filename: str,
                          map_location=None,
                          trust: Optional[bool] = None) -> dict:
    """Load a local checkpoint written by mmengine (or ``torch.save``)
    without running code from it.

    Args:
        filename (str): Path to the ``.pth`` file (``~`` is expanded).
        map_location: As for :func:`torch.load`.
        trust (bool, optional): Load with ``weights_only=False`` (runs any
            code the pickle holds). Default: the :data:`TRUST_ENV`
            environment variable.

    Returns:
        dict: The unpickled checkpoint.

    Raises:
        UntrustedCheckpointError: the file holds other types than tensors,
            containers and :data:`MMENGINE_SAFE_GLOBALS`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} does not exist')
    if checkpoints_trusted(trust):
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(MMENGINE_SAFE_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        refused = _refused_globals(filename, e)
        raise UntrustedCheckpointError(
            f'{filename}: refused to load: the checkpoint holds '
            f'{", ".join(refused)}, which is not among the types mmengine '
            'checkpoints hold (tensors, containers, numpy arrays, '
            'HistoryBuffer); unpickling it could run code from the file. If '
            'you made this file or trust its source, pass --trust-checkpoint '
            f'or set {TRUST_ENV}=1.') from None


def install_checkpoint_loader() -> None:
    """Register :func:`load_local_checkpoint` for local paths (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    _INSTALLED = True


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint (``state_dict`` or ``model``, or
    the dict itself), with DDP's ``module.`` prefix removed as mmengine
    does."""
    sd = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint, dict) and key in checkpoint:
            sd = checkpoint[key]
            break
    if not isinstance(sd, dict):
        raise CheckpointError(
            f'expected a dict of tensors, got {type(sd).__name__}')
    return {re.sub(r'^module\.', '', k): v for k, v in sd.items()}


def _examples(names: Iterable[str], n: int = 3) -> str:
    names = list(names)
    more = f', ... ({len(names) - n} more)' if len(names) > n else ''
    return ', '.join(names[:n]) + more


def check_state_dict_fits(model: torch.nn.Module,
                          state_dict: Dict[str, torch.Tensor],
                          source: str = 'checkpoint',
                          allow_partial: bool = False) -> Dict[str, list]:
    """Compare a state dict with a model's tensors.

    Every parameter and persistent buffer of ``model`` must be in
    ``state_dict`` with the same shape (BatchNorm's ``num_batches_tracked``
    counters excepted); tensors the model lacks are only reported.

    Args:
        model (nn.Module): The model (unwrapped from DDP by the caller or
            here through ``.module``).
        state_dict (dict): name -> tensor.
        source (str): Named in the error (the checkpoint's path).
        allow_partial (bool): Report instead of raising.

    Returns:
        dict: ``missing``, ``mismatched`` (``(name, ckpt shape, model
        shape)``), ``unexpected`` name lists.

    Raises:
        CheckpointMismatchError: with the counts and a few names, unless
            ``allow_partial``.
    """
    model = getattr(model, 'module', model)
    own = model.state_dict()
    missing = [
        k for k in own
        if k not in state_dict and not k.endswith('num_batches_tracked')
    ]
    mismatched = [(k, tuple(state_dict[k].shape), tuple(v.shape))
                  for k, v in own.items() if k in state_dict
                  and hasattr(state_dict[k], 'shape')
                  and tuple(state_dict[k].shape) != tuple(v.shape)]
    unexpected = [k for k in state_dict if k not in own]
    report = dict(
        missing=missing, mismatched=mismatched, unexpected=unexpected)
    if (missing or mismatched) and not allow_partial:
        parts = []
        if missing:
            parts.append(f'{len(missing)} of the model\'s {len(own)} tensors '
                         f'are missing ({_examples(missing)})')
        if mismatched:
            shown = [f'{k}: {a} in the checkpoint vs {b} in the model'
                     for k, a, b in mismatched]
            parts.append(f'{len(mismatched)} with other shapes '
                         f'({_examples(shown, 2)})')
        if unexpected:
            parts.append(f'{len(unexpected)} checkpoint tensors not in the '
                         f'model ({_examples(unexpected)})')
        raise CheckpointMismatchError(
            f'{source} does not fit {type(model).__name__}: ' +
            '; '.join(parts) + '. Is it a checkpoint of this config? Pass '
            '--allow-partial-checkpoint to load it anyway (fine-tuning).')
    return report


def load_model_weights(model: torch.nn.Module,
                       filename: str,
                       allow_partial: bool = False,
                       map_location='cpu') -> dict:
    """Load ``filename`` into ``model`` after :func:`check_state_dict_fits`.

    Returns:
        dict: the checkpoint (its ``meta`` holds e.g. ``dataset_meta``).
    """
    checkpoint = CheckpointLoader.load_checkpoint(
        filename, map_location=map_location)
    state_dict = state_dict_of(checkpoint)
    report = check_state_dict_fits(model, state_dict, filename,
                                   allow_partial)
    skip = {k for k, _, _ in report['mismatched']}
    target = getattr(model, 'module', model)
    target.load_state_dict(
        {k: v
         for k, v in state_dict.items() if k not in skip}, strict=False)
    return checkpoint if isinstance(checkpoint, dict) else {}


def verify_checkpoint(model: torch.nn.Module,
                      filename: str,
                      allow_partial: bool = False) -> Dict[str, list]:
    """Load ``filename`` (safely) and :func:`check_state_dict_fits` it
    against ``model`` without changing the model (what ``tools/test.py``
    does before the Runner loads the weights)."""
    checkpoint = CheckpointLoader.load_checkpoint(
        filename, map_location='cpu')
    return check_state_dict_fits(model, state_dict_of(checkpoint), filename,
                                 allow_partial)


def add_checkpoint_args(parser) -> None:
    """Add ``--trust-checkpoint`` and ``--allow-partial-checkpoint`` to a
    tool's ``argparse`` parser (read back with
    :func:`apply_checkpoint_args`)."""
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load checkpoints that hold other types than mmengine writes '
        f'(runs code from the file; same as {TRUST_ENV}=1): only for files '
        'you made or trust')
    parser.add_argument(
        '--allow-partial-checkpoint',
        action='store_true',
        help='accept a checkpoint that misses some of the model\'s tensors '
        'or has other shapes (fine-tuning); by default that is an error')


def apply_checkpoint_args(args) -> bool:
    """Trust checkpoints in this process (and its children) when the tool
    was given ``--trust-checkpoint``; returns ``allow_partial``."""
    if getattr(args, 'trust_checkpoint', False):
        trust_checkpoints()
    return bool(getattr(args, 'allow_partial_checkpoint', False))


def run_tool(main, *args, **kwargs):
    """Run a tool's ``main`` and turn a :class:`CheckpointError` into a
    one-line message on stderr and exit status 1 (no traceback)."""
    try:
        return main(*args, **kwargs)
    except CheckpointError as e:
        raise SystemExit(f'error: {e}') from None
