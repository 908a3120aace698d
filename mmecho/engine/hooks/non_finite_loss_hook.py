# Copyright (c) mmecho contributors. All rights reserved.
import os.path as osp
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mmecho.registration.errors import ADVICE, NonFiniteError
from mmecho.registry import HOOKS


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training with :class:`~mmecho.registration.NonFiniteError` when
    a loss term or, after the optimizer step, a model parameter is NaN or
    infinite.

    Runs in ``after_train_iter`` at priority ``LOW``: after the logger and
    before ``CheckpointHook`` (``VERY_LOW``), so a diverged model is never
    saved and the last checkpoint in the work dir is the last good one; the
    message names the iteration (1-based, as in the log), the terms and that
    checkpoint. The loss terms are the keys of the model's ``log_vars``
    containing ``'loss'`` (those mmengine sums into the loss). Parameters
    are checked too because a finite loss can have non-finite gradients
    (on the CAMUS phantom, DLIR at lr 0.05: loss 2827 at iteration 2, every
    parameter NaN after its step); in data-parallel training they are equal
    on every rank, so every rank stops at the same iteration. With AMP the
    gradient scaler skips steps with non-finite gradients, but a non-finite
    loss still stops the run.

    Args:
        check_parameters (bool): Also check the parameters (one pass over
            them per iteration). Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, check_parameters: bool = True) -> None:
        self.check_parameters = check_parameters

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        bad = []
        for key, value in (outputs or {}).items():
            value = torch.as_tensor(value).detach()
            if 'loss' in key and not bool(torch.isfinite(value).all()):
                bad.append(f'{key}={float(value.float().mean())}')
        if self.check_parameters:
            model = runner.model
            if is_model_wrapper(model):
                model = model.module
            named = list(model.named_parameters())
            # one flag per tensor, read back once
            finite = torch.stack(
                [torch.isfinite(p.detach()).all()
                 for _, p in named]).tolist() if named else []
            nonfinite = [n for (n, _), ok in zip(named, finite) if not ok]
            if nonfinite:
                bad.append(f'parameters after the step ({len(nonfinite)} of '
                           f'{len(named)} tensors, first {nonfinite[0]})')
        if bad:
            where = f'training iteration {runner.iter + 1}'
            if isinstance(
                    getattr(runner, 'train_loop', None), EpochBasedTrainLoop):
                where += f' (epoch {runner.epoch + 1}, batch {batch_idx + 1})'
            raise NonFiniteError(
                f'non-finite {", ".join(bad)} at {where} (1-based, as in '
                f'the log). {self._kept(runner)} {ADVICE}')

    @staticmethod
    def _kept(runner) -> str:
        """Which checkpoint is kept (the last one ``CheckpointHook`` wrote,
        from the work dir's ``last_checkpoint`` file)."""
        path = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(path):
            with open(path) as f:
                ckpt = f.read().strip()
            if ckpt and osp.isfile(ckpt):
                return (f'Training stopped; the last checkpoint, {ckpt}, was '
                        'saved before this iteration and is kept.')
        return 'Training stopped; no checkpoint was saved before it.'
