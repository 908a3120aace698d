# Copyright (c) mmecho contributors. All rights reserved.
"""Build an M-mode instance model and run it on images (mmdet's APIs)."""
import warnings
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmdet.apis import inference_detector, init_detector
from mmdet.structures import DetDataSample

from mmecho.datasets.meis_dataset import MEISDataset
from mmecho.engine.checkpoint import load_model_weights
from mmecho.utils import register_all_modules


def init_instance_model(config,
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None,
                        allow_partial: bool = False) -> torch.nn.Module:
    """mmdet's ``init_detector`` with mmecho's registries and MEIS classes.

    Args:
        config (str | Config): e.g. ``configs/meis/rtm_assigner.py``.
        checkpoint (str, optional): Weights, loaded without trusting the
            file and refused when they do not fit the model
            (:func:`mmecho.engine.load_model_weights`); class names stored
            in the checkpoint win, else the MEIS classes are used.
        device (str): ``'cpu'`` or ``'cuda:0'``.
        allow_partial (bool): Accept a checkpoint that misses tensors or
            has other shapes (reported, not raised).
    """
    register_all_modules()
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'checkpoint is None')
        model = init_detector(
            config, None, device='cpu', cfg_options=cfg_options)
    model.dataset_meta = dict(MEISDataset.METAINFO)
    if checkpoint is not None:
        ckpt = load_model_weights(model, checkpoint, allow_partial)
        meta = (ckpt.get('meta') or {}).get('dataset_meta')
        if meta:
            model.dataset_meta = {k.lower(): v for k, v in meta.items()}
    return model.to(device).eval()


def inference_instance_model(
        model: torch.nn.Module,
        images: Union[str, np.ndarray,
                      Sequence]) -> Union[DetDataSample, list]:
    """Predict boxes, labels, scores and masks (original image pixels)."""
    return inference_detector(model, images)


def forward_network(model: torch.nn.Module, inputs: torch.Tensor) -> tuple:
    """Backbone, neck and heads of an instance model, no post-processing.

    mmdet's ``SingleStageInstanceSegmentor._forward`` computes the training
    losses to feed the mask head and so needs ground truth; this runs the
    layers an inference pass runs instead (used by the FLOPs counter and the
    benchmark).

    Args:
        inputs (Tensor): (N, 3, H, W) normalised images, H and W multiples of
            32.

    Returns:
        tuple: raw head outputs (per-level scores, boxes, coefficients, and
        the (N, num_protos, H/4, W/4) prototypes of a YOLACT mask head).
    """
    feats = model.extract_feat(inputs)
    outs = model.bbox_head.forward(feats)
    mask_head = getattr(model, 'mask_head', None)
    if mask_head is not None:
        protonet = getattr(mask_head, 'protonet', None)
        # YOLACT: the prototypes; combining them with the kept detections'
        # coefficients is post-processing
        outs = outs + ((protonet(feats[0]), ) if protonet is not None else
                       (mask_head.forward(feats), ))
    return outs
