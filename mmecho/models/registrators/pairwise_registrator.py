# Copyright (c) mmecho contributors. All rights reserved.
"""Unsupervised pairwise image registration as an mmengine model."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmecho.registration import (check_finite, normalized_cross_correlation,
                                 warp)
from mmecho.registry import MODELS


@MODELS.register_module()
class PairwiseRegistrator(BaseModel):
    """Register a moving frame to a fixed frame of the same sequence.

    ``loss = loss_similarity(fixed, moving o phi) + loss_regularization(u)``
    (paper 001: ``-NCC + 1.0 x bending energy``; VoxelMorph: ``-NCC``/MSE +
    ``lambda x`` diffusion), optionally ``+ loss_label`` (Dice between the
    warped moving labels and the fixed labels, when the batch has labels:
    the label-supervised variant used on M&Ms).

    Batches (from :class:`~mmecho.datasets.FramePairDataset`) are dicts with
    ``inputs`` ``(B, 2, H, W)`` float in [0, 1] (channel 0 fixed, 1 moving)
    and ``data_samples`` a dict of per-pair lists/tensors; optional
    ``labels`` ``(B, 2, H, W)`` long with ``has_labels`` ``(B,)``.

    Args:
        network (dict): Predicts ``(B, 2, H, W)`` displacements (pixels)
            from ``(fixed, moving)``: ``BSplineRegistrationNet`` or
            ``VoxelMorphUNet``.
        loss_similarity (dict): e.g. ``dict(type='NCCLoss')``.
        loss_regularization (dict): e.g. ``BendingEnergyLoss``.
        loss_label (dict, optional): e.g. ``dict(type='MultiClassDiceLoss',
            include_background=False)`` applied to the warped one-hot
            moving labels (as probabilities) against the fixed labels.
        num_classes (int): Label classes incl. background (for metrics and
            ``loss_label``).
    """

    def __init__(self,
                 network: dict,
                 loss_similarity: dict = dict(type='NCCLoss'),
                 loss_regularization: dict = dict(
                     type='BendingEnergyLoss', loss_weight=1.0),
                 loss_label: Optional[dict] = None,
                 num_classes: int = 4,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.network = MODELS.build(network)
        self.loss_similarity = MODELS.build(loss_similarity)
        self.loss_regularization = MODELS.build(loss_regularization)
        self.loss_label = MODELS.build(loss_label) if loss_label else None
        self.num_classes = num_classes

    def displacement(self, fixed: torch.Tensor,
                     moving: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` images in [0, 1] -> ``(B, 2, H, W)`` pixels.

        Raises :class:`~mmecho.registration.NonFiniteError` on a NaN or
        infinite displacement (a diverged network or bad input), before any
        warp or loss uses it."""
        disp = self.network(fixed, moving)
        check_finite(
            disp.detach(),
            f'displacement predicted by {type(self.network).__name__}')
        return disp

    def _warped_labels(self, labels: torch.Tensor,
                       disp: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(labels[:, 1].long(),
                           self.num_classes).permute(0, 3, 1, 2).float()
        return warp(onehot, disp)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[dict] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        fixed, moving = inputs[:, :1], inputs[:, 1:2]
        disp = self.displacement(fixed, moving)
        if mode == 'tensor':
            return disp
        warped = warp(moving, disp)
        if mode == 'loss':
            losses = dict(
                loss_sim=self.loss_similarity(fixed, warped),
                loss_reg=self.loss_regularization(disp))
            if self.loss_label is not None and data_samples is not None \
                    and 'labels' in data_samples:
                has = data_samples['has_labels'].bool()
                if has.any():
                    prob = self._warped_labels(data_samples['labels'][has],
                                               disp[has])
                    # the Dice loss takes logits; log-probabilities are the
                    # logits whose softmax is ``prob``
                    losses['loss_label'] = self.loss_label(
                        prob.clamp_min(1e-6).log(),
                        data_samples['labels'][has, 0].long())
                else:
                    losses['loss_label'] = disp.sum() * 0
            return losses
        if mode == 'predict':
            return self._predict(fixed, moving, warped, disp, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}"')

    @torch.no_grad()
    def _predict(self, fixed, moving, warped, disp, data_samples) -> List:
        ncc0 = normalized_cross_correlation(fixed, moving)
        ncc1 = normalized_cross_correlation(fixed, warped)
        # fraction of pixels where the map folds (Jacobian determinant <= 0)
        dy_y = disp[:, 0, 1:, :-1] - disp[:, 0, :-1, :-1] + 1
        dy_x = disp[:, 0, :-1, 1:] - disp[:, 0, :-1, :-1]
        dx_y = disp[:, 1, 1:, :-1] - disp[:, 1, :-1, :-1]
        dx_x = disp[:, 1, :-1, 1:] - disp[:, 1, :-1, :-1] + 1
        folding = ((dy_y * dx_x - dy_x * dx_y) <= 0).float().flatten(1).mean(1)
        out = []
        for i in range(fixed.shape[0]):
            rec = dict(
                ncc_before=float(ncc0[i]),
                ncc_after=float(ncc1[i]),
                folding=float(folding[i]))
            if data_samples is not None and 'labels' in data_samples and \
                    bool(data_samples['has_labels'][i]):
                lab = data_samples['labels'][i:i + 1]
                moved = self._warped_labels(lab, disp[i:i + 1]).argmax(1)[0]
                rec['labels_fixed'] = lab[0, 0].cpu()
                rec['labels_moving'] = lab[0, 1].cpu()
                rec['labels_warped'] = moved.cpu()
            out.append(rec)
        return out
