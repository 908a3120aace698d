# Copyright (c) mmecho contributors. All rights reserved.
"""Segmentors made of several encoder-decoders applied in sequence (RU-Net,
stacked U-Nets), every output supervised."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.segmentors.base import BaseSegmentor

from mmecho.models.utils import apply_camus_postprocess
from mmecho.models.utils.batchnorm_guard import batchnorm_batch_guard
from mmecho.registry import MODELS


class CascadeSegmentor(BaseSegmentor):
    """Base of cascades: stage ``k`` segments ``self.stage_input(k, ...)``.

    Args:
        stages (list[dict]): One :class:`EchoEncoderDecoder`-style config
            (``backbone`` + ``decode_head``) per stage; the ``type`` defaults
            to ``EchoEncoderDecoder``.
        loss_weights (Sequence[float], optional): Weight of each stage's
            loss (default 1 each).
        data_preprocessor, train_cfg, init_cfg: as mmseg segmentors.
        test_cfg (dict): mmseg test config plus ``output`` (1-based index of
            the stage whose segmentation is returned; default the last),
            and the CAMUS post-processing keys of :class:`EchoEncoderDecoder`.

    Losses are reported as ``o1.loss_*``, ``o2.loss_*``...
    """

    def __init__(self,
                 stages: List[dict],
                 loss_weights: Optional[Sequence[float]] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        built = []
        for cfg in stages:
            cfg = dict(cfg)
            cfg.setdefault('type', 'EchoEncoderDecoder')
            built.append(MODELS.build(cfg))
        self.stages = nn.ModuleList(built)
        self.loss_weights = list(loss_weights or [1.0] * len(built))
        if len(self.loss_weights) != len(built):
            raise ValueError('loss_weights needs one weight per stage')
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg or {}
        self.decode_head = built[-1].decode_head  # mmseg tools look here
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels

    def stage_input(self, k: int, inputs: torch.Tensor,
                    prev_logits: Optional[torch.Tensor]) -> torch.Tensor:
        """Input of stage ``k`` (0-based) from the image and the previous
        stage's logits at image size."""
        raise NotImplementedError

    def forward_stages(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """``(B, C, H, W)`` -> the logits of every stage, each
        ``(B, num_classes, H, W)``."""
        outs = []
        prev = None
        for k, stage in enumerate(self.stages):
            x = self.stage_input(k, inputs, prev)
            logits = stage.decode_head.forward(stage.extract_feat(x))
            if logits.shape[-2:] != inputs.shape[-2:]:
                logits = F.interpolate(
                    logits,
                    size=inputs.shape[-2:],
                    mode='bilinear',
                    align_corners=self.align_corners)
            outs.append(logits)
            prev = logits
        return outs

    def extract_feat(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        return self.forward_stages(inputs)

    def encode_decode(self, inputs: torch.Tensor,
                      batch_img_metas: List[dict]) -> torch.Tensor:
        outs = self.forward_stages(inputs)
        k = int(self.test_cfg.get('output', len(outs))) - 1
        return outs[k]

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict:
        losses = {}
        with batchnorm_batch_guard(self):
            outs = self.forward_stages(inputs)
        for k, (logits, stage, w) in enumerate(
                zip(outs, self.stages, self.loss_weights)):
            stage_losses = stage.decode_head.loss_by_feat(logits, data_samples)
            for name, v in stage_losses.items():
                if name.startswith('loss'):
                    v = v * w
                losses[f'o{k + 1}.{name}'] = v
        return losses

    def predict(self, inputs: torch.Tensor, data_samples=None):
        if data_samples is not None:
            metas = [ds.metainfo for ds in data_samples]
        else:
            metas = [
                dict(
                    ori_shape=inputs.shape[2:],
                    img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:],
                    padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        logits = self.encode_decode(inputs, metas)
        return self.postprocess_result(logits, data_samples)

    def postprocess_result(self, seg_logits, data_samples=None):
        results = super().postprocess_result(seg_logits, data_samples)
        apply_camus_postprocess(results, self.test_cfg)
        return results

    def _forward(self, inputs: torch.Tensor, data_samples=None):
        return self.encode_decode(inputs, None)


@MODELS.register_module()
class StackedUNets(CascadeSegmentor):
    """SHG of the CAMUS paper: cascaded light U-Nets; stages 2.. see the image
    concatenated with the previous stage's softmax (so their
    ``in_channels`` = image channels + classes)."""

    def stage_input(self, k, inputs, prev_logits):
        if k == 0:
            return inputs
        return torch.cat([inputs, prev_logits.softmax(dim=1)], dim=1)


@MODELS.register_module()
class RUNet(CascadeSegmentor):
    """RU-Net (Leclerc et al., IUS 2019): the first U-Net's foreground
    probability (1 - background) is binarised by a parametrised sigmoid,
    dilated by a fixed convolution and re-binarised
    (:class:`DifferentiableROI`); the image multiplied by this mask is
    segmented by the second U-Net. Both outputs are trained end to end with
    the same loss; gradients of the second loss reach the first U-Net through
    the sigmoids.

    With more than two stages, stage ``k`` segments the image masked by the
    ROI of stage ``k - 1``'s output: four stages are the paper's "two
    cascaded RU-Nets" (section IV, alternative 3; the second RU-Net's first
    U-Net sees the image masked by the ROI of the first RU-Net's refined
    output). Every output has the same loss.

    Args:
        stages (list[dict]): The U-Nets (two for RU-Net, four for two
            cascaded RU-Nets).
        roi (dict): :class:`DifferentiableROI` arguments: ``dilations``
            (``(11,)``; several = the inception variant), ``shift`` (0.5),
            ``kernel`` (``'disc'``, default, or ``'atrous'``).
        background_index (int): Class whose probability is the background.
        image_black (float): Value of a black pixel in the (normalised)
            input; the masked-out region is set to it. 0 with the RU-Net
            configs' normalisation to [0, 1].
        pretrained_first (str, optional): Checkpoint of a trained U-Net 1
            (an ``EchoEncoderDecoder``) loaded into the first stage (the
            paper's pre-training variant).
        **kwargs: :class:`CascadeSegmentor` arguments.
    """

    def __init__(self,
                 stages: List[dict],
                 roi: dict = dict(dilations=(11, ), shift=0.5),
                 background_index: int = 0,
                 image_black: float = 0.0,
                 pretrained_first: Optional[str] = None,
                 **kwargs) -> None:
        from mmecho.models.layers import DifferentiableROI
        if len(stages) < 2:
            raise ValueError(
                f'RU-Net needs at least two stages, got {len(stages)}')
        super().__init__(stages, **kwargs)
        self.roi = DifferentiableROI(**roi)
        self.background_index = background_index
        self.image_black = float(image_black)
        self.pretrained_first = pretrained_first

    def init_weights(self):
        super().init_weights()
        if self.pretrained_first:
            from mmengine.runner import load_checkpoint
            load_checkpoint(
                self.stages[0],
                self.pretrained_first,
                map_location='cpu',
                strict=False)

    def roi_mask(self, logits: torch.Tensor) -> torch.Tensor:
        """``(B, K, H, W)`` first-stage logits -> ``(B, 1, H, W)`` ROI."""
        prob = logits.softmax(dim=1)
        fg = 1.0 - prob[:, self.background_index:self.background_index + 1]
        return self.roi(fg)

    def stage_input(self, k, inputs, prev_logits):
        if k == 0:
            return inputs
        mask = self.roi_mask(prev_logits)
        return (inputs - self.image_black) * mask + self.image_black
