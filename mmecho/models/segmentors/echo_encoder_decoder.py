# Copyright (c) mmecho contributors. All rights reserved.
"""mmseg's EncoderDecoder that wires any encoder to any decoder, and applies
the CAMUS post-processing at test time."""
import copy
from typing import Optional, Sequence

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor

from mmecho.models.utils import apply_camus_postprocess
from mmecho.models.utils.batchnorm_guard import batchnorm_batch_guard
from mmecho.registry import MODELS


def _select(channels: Sequence[int], index):
    if isinstance(index, (list, tuple)):
        return [channels[i] for i in index]
    return channels[index]


def fill_in_channels(cfg: dict, channels: Sequence[int]) -> dict:
    """Copy of a neck/head config with ``in_channels`` (and DeepLabV3+'s
    ``c1_in_channels``, the first input) taken from ``channels`` where the
    config leaves them ``None`` or absent; heads select by ``in_index``
    (default: all inputs), necks take the whole list."""
    cfg = copy.deepcopy(cfg)
    if cfg.get('in_channels') is None:
        if 'in_index' in cfg:
            cfg['in_channels'] = _select(channels, cfg['in_index'])
        else:
            cfg['in_channels'] = list(channels)
            if 'neck' not in cfg.get('type', '').lower():
                cfg['in_index'] = list(range(len(channels)))
    if 'c1_in_channels' in cfg and cfg['c1_in_channels'] is None:
        cfg['c1_in_channels'] = channels[0]
    return cfg


@MODELS.register_module()
class EchoEncoderDecoder(EncoderDecoder):
    """Encoder-decoder segmentor whose neck and heads read their input
    channels from the built backbone (``backbone.out_channels``), so an
    architecture config and an encoder config compose without repeating
    channel lists.

    ``test_cfg`` may add ``largest_component=True`` and ``fill_holes=True``
    (CAMUS post-processing, per class, on the label map at the original
    resolution; ``postprocess_classes`` restricts it to some labels).

    Arguments are those of mmseg's :class:`EncoderDecoder`; a head or neck
    ``in_channels`` of ``None`` (or absent) is filled in.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_head=None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        BaseSegmentor.__init__(
            self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(backbone, pretrained=pretrained)
        self.backbone = MODELS.build(backbone)
        channels = tuple(self.backbone.out_channels)
        if neck is not None:
            neck = fill_in_channels(neck, channels)
            neck.pop('in_index', None)
            self.neck = MODELS.build(neck)
            num_outs = neck.get('num_outs', len(channels))
            channels = (neck['out_channels'], ) * num_outs
        self._init_decode_head(fill_in_channels(decode_head, channels))
        if isinstance(auxiliary_head, list):
            auxiliary_head = [
                fill_in_channels(h, channels) for h in auxiliary_head
            ]
        elif auxiliary_head is not None:
            auxiliary_head = fill_in_channels(auxiliary_head, channels)
        self._init_auxiliary_head(auxiliary_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """mmseg's loss; a BatchNorm that sees one value per channel (a
        batch of one after global pooling, or a 1x1 map) raises
        :class:`~mmecho.models.utils.BatchNormSingleValueError` saying what
        to change instead of torch's bare message."""
        with batchnorm_batch_guard(self):
            return super().loss(inputs, data_samples)

    def postprocess_result(self, seg_logits: torch.Tensor, data_samples=None):
        results = super().postprocess_result(seg_logits, data_samples)
        apply_camus_postprocess(results, self.test_cfg)
        return results
