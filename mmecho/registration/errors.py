# Copyright (c) mmecho contributors. All rights reserved.
"""The error raised when a training run diverges (issue 15, point 4)."""
from typing import Optional

import torch

ADVICE = ('The training has diverged: lower the learning rate '
          '(optim_wrapper.optimizer.lr) or add gradient clipping '
          '(optim_wrapper.clip_grad), and check the data for NaN/inf values.')
ADVICE_INFERENCE = ('Check the input images and the model weights for '
                    'NaN/inf values.')


class NonFiniteError(FloatingPointError):
    """A displacement field, a loss or a parameter is NaN or infinite.

    Raised before the value can reach ``grid_sample`` (whose backward
    crashes the process on a NaN grid) or a checkpoint. The message names
    what was non-finite, how many values, the training iteration when one is
    running and what to do, e.g.::

        displacement predicted by BSplineRegistrationNet: 8192 of 32768
        values are non-finite (8192 NaN, 0 inf) at training iteration 3
        (1-based, as in the log). The training has diverged: ...
    """


def training_iteration() -> Optional[int]:
    """The running training iteration, 1-based as in mmengine's log, from
    the message hub (written by ``RuntimeInfoHook``); ``None`` outside a
    training loop (inference, validation, tests)."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    it = hub.get_info('iter')
    if hub.get_info('loop_stage') != 'train' or it is None:
        return None
    return int(it) + 1


def check_finite(tensor: torch.Tensor, what: str) -> None:
    """Raise :class:`NonFiniteError` naming ``what`` if ``tensor`` (any
    shape) has a NaN or infinite value; a no-op otherwise."""
    finite = torch.isfinite(tensor)
    if bool(finite.all()):
        return
    nan = int(torch.isnan(tensor).sum())
    bad = int((~finite).sum())
    it = training_iteration()
    when = (f' at training iteration {it} (1-based, as in the log). '
            f'{ADVICE}' if it is not None else f'. {ADVICE_INFERENCE}')
    raise NonFiniteError(f'{what}: {bad} of {tensor.numel()} values are '
                         f'non-finite ({nan} NaN, {bad - nan} inf){when}')
