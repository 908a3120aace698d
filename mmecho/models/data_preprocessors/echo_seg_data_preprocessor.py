# Copyright (c) mmecho contributors. All rights reserved.
"""mmseg's SegDataPreProcessor plus the thesis augmentation (random shift and
scale), applied to the batch on its device."""
import math
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor

from mmecho.registry import MODELS

THESIS_AUGMENTATION = dict(max_shift=0.2, scale_range=(0.5, 2.0), prob=1.0)


@MODELS.register_module()
class EchoSegDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` with an optional random affine
    augmentation during training.

    Args:
        augment (str | dict, optional): ``None`` (initial data), ``'thesis'``
            (random vertical and horizontal shift up to 20 % of the image
            height/width, zoom between 0.5x and 2x, as in the CAMUS grid
            thesis) or a dict with ``max_shift`` (fraction of the size),
            ``scale_range`` (min, max zoom; drawn log-uniformly so zooming in
            and out are equally likely) and ``prob`` (per image).
        **kwargs: :class:`SegDataPreProcessor` arguments.

    Images are resampled bilinearly, label maps by nearest neighbour; what
    enters from outside the image is black (intensity 0 before
    normalisation) and background (label 0).
    """

    def __init__(self, augment: Union[None, str, dict] = None, **kwargs):
        super().__init__(**kwargs)
        if augment == 'thesis':
            augment = THESIS_AUGMENTATION
        elif isinstance(augment, str):
            raise ValueError(
                f"augment must be None, 'thesis' or a dict, got {augment!r}")
        if augment is not None:
            augment = dict(THESIS_AUGMENTATION, **augment)
            lo, hi = augment['scale_range']
            if not 0 < lo <= hi:
                raise ValueError(f'augment.scale_range must be 0 < min <= max,'
                                 f' got {augment["scale_range"]}')
        self.augment = augment

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if training and self.augment is not None:
            data['inputs'] = self._shift_scale(data['inputs'],
                                               data['data_samples'])
        return data

    def _shift_scale(self, inputs: torch.Tensor,
                     data_samples: Sequence) -> torch.Tensor:
        """``inputs`` ``(B, C, H, W)`` normalised; labels in
        ``data_samples[i].gt_sem_seg.data`` ``(1, H, W)`` changed in place."""
        b = inputs.shape[0]
        dev = inputs.device
        aug = self.augment
        lo, hi = aug['scale_range']
        s = torch.exp(
            torch.empty(b, device=dev).uniform_(math.log(lo), math.log(hi)))
        t = torch.empty(
            b, 2, device=dev).uniform_(-aug['max_shift'], aug['max_shift'])
        keep = torch.rand(b, device=dev) >= aug['prob']
        s[keep] = 1.0
        t[keep] = 0.0
        # output (x, y) in [-1, 1] samples the input at (x - 2 t) / s
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0] = 1 / s
        theta[:, 1, 1] = 1 / s
        theta[:, :, 2] = -2 * t / s[:, None]
        grid = F.affine_grid(theta, list(inputs.shape), align_corners=False)
        black = self._normalised_black(inputs)
        out = F.grid_sample(
            inputs - black,
            grid,
            mode='bilinear',
            padding_mode='zeros',
            align_corners=False) + black
        if data_samples and hasattr(data_samples[0], 'gt_sem_seg'):
            labels = torch.stack([ds.gt_sem_seg.data
                                  for ds in data_samples]).float()
            labels = F.grid_sample(
                labels,
                grid,
                mode='nearest',
                padding_mode='zeros',
                align_corners=False).round().to(
                    data_samples[0].gt_sem_seg.data.dtype)
            for ds, lab in zip(data_samples, labels):
                ds.gt_sem_seg.data = lab
        return out

    def _normalised_black(self, inputs: torch.Tensor) -> torch.Tensor:
        if getattr(self, '_enable_normalize', False):
            return ((0 - self.mean) / self.std).view(1, -1, 1, 1).to(inputs)
        return torch.zeros(1, inputs.shape[1], 1, 1).to(inputs)
