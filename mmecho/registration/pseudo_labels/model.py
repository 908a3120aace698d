# Copyright (c) mmecho contributors. All rights reserved.
"""The registration model behind the pseudo-labels: built from its config
and checkpoint, and its ``fields_fn``."""
from typing import Callable, Optional

import torch


def load_registration_model(config: str,
                            checkpoint: Optional[str],
                            device: str = 'cpu',
                            allow_partial: bool = False):
    """Build a :class:`PairwiseRegistrator` from its config, load the
    checkpoint (without trusting the file; weights that do not fit the
    model are refused unless ``allow_partial``) and return ``(model,
    size)``, ``size`` the ``(H, W)`` its training frames had."""
    from mmengine.config import Config

    from mmecho.engine.checkpoint import load_model_weights
    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_model_weights(model, checkpoint, allow_partial)
    model.to(device).eval()
    size = tuple(cfg.train_dataloader.dataset.get('size', (512, 512)))
    return model, size


def model_fields_fn(model) -> Callable:
    """The ``fields_fn`` of a registration model, without gradients:
    ``(fixed, moving) -> displacement``, ``(N, 1, H, W)`` float images in
    [0, 1] to ``(N, 2, H, W)`` displacements (pixels), as
    :data:`mmecho.registration.label_propagation.FieldFn`."""

    @torch.no_grad()
    def fn(fixed, moving):
        return model.displacement(fixed, moving)

    return fn
