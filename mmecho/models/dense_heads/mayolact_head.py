# Copyright (c) mmecho contributors. All rights reserved.
"""maYOLACT box head: mmdet's YOLACT head with pluggable label assignment.

Differences to :class:`mmdet.models.dense_heads.YOLACTHead`:

* the coefficient conv can be 1x1 (RAMEM) instead of 3x3;
* any mmdet assigner works: MaxIoU and ATSS see the anchors; SimOTA and
  DynamicSoftLabel (RTMDet) also see this step's decoded boxes and class
  scores, as in mmdet's YOLOX and RTMDet heads. ATSS receives the number of
  anchors per level. With ``iou_calculator=dict(type='MaskAwareOverlaps2D')``
  the assigner's overlaps become maIoU against the GT masks;
* OHEM follows YOLACT/RAMEM: at most ``neg_pos_ratio`` hard negatives per
  positive of the same image (an image without positives contributes no
  negatives) and the losses are divided by max(#positives, 1), so a batch
  whose objects were all cropped away gives zero losses instead of inf/NaN.

Classification stays softmax cross-entropy with one-hot targets for every
assigner: the soft label of DynamicSoftLabel (the IoU of the matched box)
only enters the assignment cost, as in the reference implementation.
"""
from typing import List, Optional

import torch
import torch.nn as nn
from mmdet.models.dense_heads import YOLACTHead
from mmdet.models.task_modules.assigners import (ATSSAssigner,
                                                 DynamicSoftLabelAssigner,
                                                 SimOTAAssigner)
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.models.utils import unmap
from mmengine.structures import InstanceData
from torch import Tensor

from mmecho.registry import MODELS
from ..task_modules.mask_aware_overlaps import bind_gt_masks

#: assigners that rank this step's predictions, and the score form they use
PREDICTION_AWARE = {
    DynamicSoftLabelAssigner: 'logits',  # applies sigmoid itself
    SimOTAAssigner: 'probs',  # binary cross-entropy on probabilities
}


@MODELS.register_module()
class MaYOLACTHead(YOLACTHead):
    """YOLACT box head with 1x1 coefficients and any mmdet assigner.

    Args:
        coeff_kernel_size (int): Kernel of the coefficient conv; RAMEM uses
            1, mmdet's YOLACT 3. Defaults to 1.
        **kwargs: :class:`mmdet.models.dense_heads.YOLACTHead` arguments.

    Shapes (per FPN level l, A anchors per location, K classes):
        cls_score (N, A*(K+1), H_l, W_l), bbox_pred (N, A*4, H_l, W_l),
        coeff_pred (N, A*num_protos, H_l, W_l) in [-1, 1].
    """

    def __init__(self, *args, coeff_kernel_size: int = 1, **kwargs) -> None:
        if coeff_kernel_size not in (1, 3):
            raise ValueError('coeff_kernel_size must be 1 or 3')
        self.coeff_kernel_size = coeff_kernel_size
        super().__init__(*args, **kwargs)
        self._assign_inputs = {}

    def _init_layers(self) -> None:
        super()._init_layers()
        if self.coeff_kernel_size == 1:
            self.conv_coeff = nn.Conv2d(self.feat_channels,
                                        self.num_base_priors * self.num_protos,
                                        1)

    # --- assignment ----------------------------------------------------
    def loss_by_feat(self,
                     cls_scores: List[Tensor],
                     bbox_preds: List[Tensor],
                     coeff_preds: List[Tensor],
                     batch_gt_instances,
                     batch_img_metas: List[dict],
                     batch_gt_instances_ignore=None) -> dict:
        kind = self._score_kind()
        if kind is not None:
            self._stash_predictions(cls_scores, bbox_preds, batch_img_metas,
                                    kind)
        try:
            return super().loss_by_feat(cls_scores, bbox_preds, coeff_preds,
                                        batch_gt_instances, batch_img_metas,
                                        batch_gt_instances_ignore)
        finally:
            self._assign_inputs = {}

    def _score_kind(self) -> Optional[str]:
        for cls, kind in PREDICTION_AWARE.items():
            if isinstance(self.assigner, cls):
                return kind
        return None

    @torch.no_grad()
    def _stash_predictions(self, cls_scores, bbox_preds, batch_img_metas,
                           kind: str) -> None:
        """Keep each image's decoded boxes, scores and point priors."""
        num_imgs = len(batch_img_metas)
        sizes = [s.shape[-2:] for s in cls_scores]
        anchors = torch.cat(
            self.prior_generator.grid_priors(
                sizes, device=cls_scores[0].device))
        points = []
        for size, stride in zip(sizes, self.prior_generator.strides):
            n = size[0] * size[1] * self.num_base_priors
            points.append(
                anchors.new_tensor([stride[0], stride[1]]).expand(n, 2))
        strides = torch.cat(points)
        centres = (anchors[:, :2] + anchors[:, 2:]) / 2
        priors = torch.cat([centres, strides], dim=1)  # (N, 4) cx cy sx sy
        scores = torch.cat([
            s.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
            for s in cls_scores
        ], 1).float().softmax(-1)[..., :self.num_classes]
        deltas = torch.cat([
            b.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4) for b in bbox_preds
        ], 1).float()
        for i, meta in enumerate(batch_img_metas):
            boxes = self.bbox_coder.decode(anchors, deltas[i])
            s = scores[i]
            if kind == 'logits':
                s = torch.logit(s, eps=1e-6)
            self._assign_inputs[id(meta)] = (priors, boxes, s)

    def _get_targets_single(self,
                            flat_anchors: Tensor,
                            valid_flags: Tensor,
                            gt_instances: InstanceData,
                            img_meta: dict,
                            gt_instances_ignore=None,
                            unmap_outputs: bool = True) -> tuple:
        inside_flags = anchor_inside_flags(flat_anchors, valid_flags,
                                           img_meta['img_shape'][:2],
                                           self.train_cfg['allowed_border'])
        if not inside_flags.any():
            raise ValueError('no anchor lies inside the image; set '
                             'train_cfg.allowed_border=-1')
        anchors = flat_anchors[inside_flags]
        pred_instances = InstanceData(priors=anchors)
        kwargs = {}
        gt_for_assigner = InstanceData(
            bboxes=gt_instances.bboxes, labels=gt_instances.labels)
        gt_masks = None
        if 'masks' in gt_instances:  # (G, H, W), G may be 0
            gt_masks = gt_instances.masks.to_tensor(
                dtype=torch.bool, device=anchors.device)
        if id(img_meta) in self._assign_inputs:
            priors, boxes, scores = self._assign_inputs[id(img_meta)]
            pred_instances = InstanceData(
                priors=priors[inside_flags],
                bboxes=boxes[inside_flags],
                scores=scores[inside_flags])
            if gt_masks is not None and isinstance(self.assigner,
                                                   DynamicSoftLabelAssigner):
                # mmdet's RTMDet-Ins: centre prior from the mask's centroid
                gt_for_assigner.masks = gt_masks.float()
        elif isinstance(self.assigner, ATSSAssigner):
            kwargs['num_level_priors'] = self._num_level_inside(
                flat_anchors, inside_flags)
        with bind_gt_masks(self.assigner, gt_masks):
            assign_result = self.assigner.assign(
                pred_instances,
                gt_instances=gt_for_assigner,
                gt_instances_ignore=gt_instances_ignore,
                **kwargs)
        # the sampler only needs priors; targets are encoded against anchors
        sampling_result = self.sampler.sample(assign_result,
                                              InstanceData(priors=anchors),
                                              gt_instances)

        num_valid = anchors.shape[0]
        bbox_targets = anchors.new_zeros(num_valid,
                                         self.bbox_coder.encode_size)
        bbox_weights = anchors.new_zeros(num_valid,
                                         self.bbox_coder.encode_size)
        labels = anchors.new_full((num_valid, ),
                                  self.num_classes,
                                  dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        pos_inds = sampling_result.pos_inds
        neg_inds = sampling_result.neg_inds
        if len(pos_inds) > 0:
            bbox_targets[pos_inds] = self.bbox_coder.encode(
                sampling_result.pos_priors, sampling_result.pos_gt_bboxes)
            bbox_weights[pos_inds] = 1.0
            labels[pos_inds] = sampling_result.pos_gt_labels
            pos_weight = self.train_cfg['pos_weight']
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        if unmap_outputs:
            total = flat_anchors.size(0)
            labels = unmap(labels, total, inside_flags, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside_flags)
            bbox_targets = unmap(bbox_targets, total, inside_flags)
            bbox_weights = unmap(bbox_weights, total, inside_flags)
        return (labels, label_weights, bbox_targets, bbox_weights, pos_inds,
                neg_inds, sampling_result)

    def get_targets(self, *args, **kwargs) -> tuple:
        """mmdet's targets with ``avg_factor`` = max(#positives of the
        batch, 1), as documented above (and YOLACT's ``total_num_pos``):
        mmdet's ``SamplingResult`` counts an image without positives as one
        positive, which shrank every loss of a batch holding such images."""
        res = super().get_targets(*args, **kwargs)
        results = self._raw_positive_infos['sampling_results']
        num_pos = sum(int(r.pos_inds.numel()) for r in results)
        return res[:4] + (max(num_pos, 1), ) + res[5:]

    def _num_level_inside(self, flat_anchors: Tensor,
                          inside_flags: Tensor) -> List[int]:
        sizes = self._level_sizes
        counts, start = [], 0
        for n in sizes:
            counts.append(int(inside_flags[start:start + n].sum()))
            start += n
        assert start == flat_anchors.shape[0]
        return counts

    def get_anchors(self, featmap_sizes, batch_img_metas, device='cuda'):
        self._level_sizes = [
            int(s[0] * s[1]) * self.num_base_priors for s in featmap_sizes
        ]
        return super().get_anchors(featmap_sizes, batch_img_metas, device)

    # --- OHEM ----------------------------------------------------------
    def OHEMloss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor,
                                anchors: Tensor, labels: Tensor,
                                label_weights: Tensor, bbox_targets: Tensor,
                                bbox_weights: Tensor,
                                avg_factor: int) -> tuple:
        """One image: CE over positives + 3x as many hardest negatives."""
        avg_factor = max(float(avg_factor), 1.0)
        loss_cls_all = self.loss_cls(cls_score, labels, label_weights)
        pos = (labels >= 0) & (labels < self.num_classes)
        neg_inds = ((labels == self.num_classes) &
                    (label_weights > 0)).nonzero(as_tuple=False).view(-1)
        num_pos = int(pos.sum())
        num_neg = min(self.train_cfg['neg_pos_ratio'] * num_pos,
                      neg_inds.numel())
        loss_neg = loss_cls_all[neg_inds].topk(num_neg)[0].sum()
        loss_cls = (loss_cls_all[pos].sum() + loss_neg) / avg_factor
        loss_bbox = self.loss_bbox(
            bbox_pred, bbox_targets, bbox_weights, avg_factor=avg_factor)
        return loss_cls[None], loss_bbox
