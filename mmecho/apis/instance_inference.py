# Copyright (c) mmecho contributors. All rights reserved.
"""Build an M-mode instance model and run it on images (mmdet's APIs)."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmdet.apis import inference_detector, init_detector
from mmdet.structures import DetDataSample

from mmecho.datasets.meis_dataset import MEISDataset
from mmecho.utils import register_all_modules


def init_instance_model(config,
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """mmdet's ``init_detector`` with mmecho's registries and MEIS classes.

    Args:
        config (str | Config): e.g. ``configs/meis/rtm_assigner.py``.
        checkpoint (str, optional): Weights; class names stored in the
            checkpoint win, else the MEIS classes are used.
        device (str): ``'cpu'`` or ``'cuda:0'``.
    """
    register_all_modules()
    model = init_detector(
        config, checkpoint, device=device, cfg_options=cfg_options)
    meta = getattr(model, 'dataset_meta', None) or {}
    if tuple(meta.get('classes', ())) != MEISDataset.METAINFO['classes'] and \
            checkpoint is None:
        model.dataset_meta = dict(MEISDataset.METAINFO)
    return model


def inference_instance_model(
    model: torch.nn.Module, images: Union[str, np.ndarray, Sequence]
) -> Union[DetDataSample, list]:
    """Predict boxes, labels, scores and masks (original image pixels)."""
    return inference_detector(model, images)
