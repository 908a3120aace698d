# Copyright (c) mmecho contributors. All rights reserved.
"""Multi-class soft Dice loss: the mean over classes of per-class Dice.

mmseg 1.x's ``DiceLoss`` flattens all one-hot channels of an image into one
vector and computes a single Dice, which background dominates: a network
that predicts background everywhere already scores ~0.8 on CAMUS-like
images, and small structures (the left atrium) may never be learned. The
CAMUS U-Nets are trained with the multi-class Dice defined here.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmecho.registry import MODELS


@MODELS.register_module()
class MultiClassDiceLoss(nn.Module):
    """``1 - mean_c Dice_c`` with ``Dice_c = (2 sum p_c t_c + eps) /
    (sum p_c + sum t_c + eps)``, sums over the batch and the pixels (ignored
    pixels excluded), ``p`` the softmax of the logits.

    Args:
        include_background (bool): Average over class 0 too.
        loss_weight (float): Multiplier.
        eps (float): Smoothing of numerator and denominator.
        ignore_index (int): Label excluded from the sums.
        loss_name (str): Key in the loss dict (must start with ``loss_``).

    Shapes:
        ``pred (B, C, H, W)`` logits, ``target (B, H, W)`` labels -> scalar;
        also ``(B, C, T, H, W)`` / ``(B, T, H, W)`` (2D+time).
    """

    def __init__(self,
                 include_background: bool = True,
                 loss_weight: float = 1.0,
                 eps: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.include_background = include_background
        self.loss_weight = loss_weight
        self.eps = eps
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
        ignore = self.ignore_index if ignore_index is None else ignore_index
        num_classes = pred.shape[1]
        prob = pred.softmax(dim=1)
        valid = (target != ignore)
        t = F.one_hot(
            torch.where(valid, target, torch.zeros_like(target)).long(),
            num_classes).movedim(-1, 1).to(prob)
        v = valid[:, None].to(prob)
        prob, t = prob * v, t * v
        dims = (0, ) + tuple(range(2, prob.dim()))
        inter = (prob * t).sum(dims)
        denom = prob.sum(dims) + t.sum(dims)
        dice = (2 * inter + self.eps) / (denom + self.eps)
        if not self.include_background:
            dice = dice[1:]
        return self.loss_weight * (1.0 - dice.mean())

    @property
    def loss_name(self) -> str:
        return self._loss_name
