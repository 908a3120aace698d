# Copyright (c) mmecho contributors. All rights reserved.
"""Model statistics from a config."""


def count_params(config: str) -> float:
    """Parameters (millions) of a config's model."""
    from mmengine import Config

    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    return sum(p.numel() for p in model.parameters()) / 1e6
