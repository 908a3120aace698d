# Copyright (c) mmecho contributors. All rights reserved.
"""2D+time segmentation of whole sequences, trained with mmengine's runner."""
from typing import Dict, List, Optional, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.registry import MODELS


@MODELS.register_module()
class SequenceSegmentor(BaseModel):
    """A 3D network over ``(B, 1, T', H', W')`` sequences (paper 001's
    "3D dense" model), e.g. :class:`~mmecho.models.UNet3D` + a 1x1x1
    classifier.

    Training batches come from :class:`~mmecho.datasets.CAMUSSequenceDataset`
    (``pseudo_collate``): ``inputs`` a list of ``(1, T', H', W')`` tensors,
    ``data_samples`` a list of data elements with ``labels`` ``(T', H',
    W')``, ``gt`` and the sequence metainfo.
    ``predict`` resamples the logits back to the original ``(T, H, W)``
    (trilinear) and returns **one** :class:`SegDataSample` **per frame**
    with ``pred_sem_seg``, ``gt_sem_seg`` (the original labels) and the
    metainfo ``patient``, ``view``, ``frame_index``, ``num_frames``,
    ``spacing``, ``instant`` (ED, ES, tNN), so the frame-level metrics
    (``EchoSegMetric``, ``TemporalSegMetric``) apply unchanged.

    Args:
        backbone (dict): The 3D network.
        num_classes (int): Classes incl. background.
        loss_decode (list[dict]): Losses on ``(B, C, T', H', W')`` logits
            and ``(B, T', H', W')`` labels (255 ignored).
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int = 4,
                 loss_decode=(dict(
                     type='mmseg.CrossEntropyLoss',
                     avg_non_ignore=True,
                     loss_weight=1.0),
                              dict(
                                  type='MultiClassDiceLoss',
                                  loss_weight=1.0,
                                  loss_name='loss_dice')),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.cls = nn.Conv3d(self.backbone.out_channels, num_classes, 1)
        self.num_classes = num_classes
        if isinstance(loss_decode, dict):
            loss_decode = [loss_decode]
        self.losses = nn.ModuleList(MODELS.build(c) for c in loss_decode)

    def _logits(self, inputs) -> torch.Tensor:
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        return self.cls(self.backbone(inputs))

    def forward(self,
                inputs,
                data_samples: Optional[List[dict]] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        logits = self._logits(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            target = torch.stack([d.labels
                                  for d in data_samples]).to(logits.device)
            out = {}
            for loss in self.losses:
                # as mmseg's decode heads call their losses
                val = loss(logits, target, ignore_index=255)
                out[loss.loss_name] = out.get(loss.loss_name, 0) + val
            return out
        if mode == 'predict':
            return self._predict(logits, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}"')

    @torch.no_grad()
    def _predict(self, logits: torch.Tensor,
                 data_samples: List) -> List[SegDataSample]:
        out = []
        for i, ds in enumerate(data_samples):
            meta = ds.metainfo
            T = int(meta['num_frames'])
            H, W = meta['ori_shape']
            lg = F.interpolate(
                logits[i:i + 1],
                size=(T, H, W),
                mode='trilinear',
                align_corners=False)
            pred = lg.argmax(1)[0].to(torch.uint8).cpu()
            gt = ds.get('gt', None)
            gt = None if gt is None else torch.as_tensor(np.asarray(gt))
            for t in range(T):
                s = SegDataSample()
                s.set_metainfo(
                    dict(
                        patient=meta['patient'],
                        view=meta['view'],
                        frame_index=t,
                        num_frames=T,
                        spacing=tuple(meta['spacing']),
                        ori_shape=(H, W),
                        img_path=meta.get('img_path', ''),
                        instant='ED' if t == 0 else
                        ('ES' if t == T - 1 else f't{t:02d}')))
                s.pred_sem_seg = PixelData(data=pred[t][None])
                if gt is not None:
                    s.gt_sem_seg = PixelData(data=gt[t][None].long())
                out.append(s)
        return out
