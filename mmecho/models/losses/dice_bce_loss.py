# Copyright (c) mmecho contributors. All rights reserved.
"""The binary Dice + BCE loss of the CAMUS grid thesis (paper 002, appendix
``DiceBCELoss(weight=0.5)``)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmecho.registry import MODELS


def soft_dice(prob: torch.Tensor,
              target: torch.Tensor,
              smooth: float = 1.0) -> torch.Tensor:
    """The thesis's Dice coefficient (its "Accuracy"): ``(2 sum p t +
    smooth) / (sum p + sum t + smooth)`` over every element of the inputs
    (the whole batch flattened), ``p`` probabilities in [0, 1], ``t`` 0/1."""
    prob = prob.reshape(-1).float()
    target = target.reshape(-1).float()
    return (2.0 * (prob * target).sum() + smooth) / (
        prob.sum() + target.sum() + smooth)


@MODELS.register_module()
class DiceBCELoss(nn.Module):
    """``weight * BCE + (1 - weight) * (1 - soft Dice)`` of one sigmoid
    channel, as the thesis trained every cell (``weight=0.5``, Dice smoothing
    1, both terms over the whole batch).

    Args:
        weight (float): Share of the binary cross-entropy.
        smooth (float): Dice smoothing (numerator and denominator).
        loss_weight (float): Multiplier of the total.
        ignore_index (int): Label excluded from both terms (none in the
            thesis; CAMUS pads with it here).
        loss_name (str): Key in the loss dict.

    Shapes:
        ``pred (B, 1, H, W)`` logits, ``target (B, H, W)`` labels in {0, 1}
        (and ``ignore_index``) -> scalar.
    """

    def __init__(self,
                 weight: float = 0.5,
                 smooth: float = 1.0,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_dice_bce') -> None:
        super().__init__()
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f'weight must be in [0, 1], got {weight}')
        self.weight = weight
        self.smooth = smooth
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight=None,
                avg_factor=None,
                reduction_override=None,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        if pred.dim() != 4 or pred.shape[1] != 1:
            raise ValueError(
                f'DiceBCELoss expects one sigmoid channel, pred (B, 1, H, W);'
                f' got {tuple(pred.shape)} (set the head\'s out_channels=1)')
        ignore = self.ignore_index if ignore_index is None else ignore_index
        logits = pred[:, 0]
        valid = target != ignore
        bad = target[valid]
        if bad.numel() and (bad.max() > 1 or bad.min() < 0):
            raise ValueError('DiceBCELoss expects labels 0/1 (binarise the '
                             f'label map); got values up to {int(bad.max())}')
        t = torch.where(valid, target, torch.zeros_like(target)).float()
        logits = logits[valid]
        t = t[valid]
        bce = F.binary_cross_entropy_with_logits(logits, t)
        dice = soft_dice(torch.sigmoid(logits), t, self.smooth)
        loss = self.weight * bce + (1.0 - self.weight) * (1.0 - dice)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
