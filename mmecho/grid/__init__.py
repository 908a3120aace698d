# Copyright (c) mmecho contributors. All rights reserved.
"""The CAMUS benchmark grid (paper 002): its cells and leaf configs
(:mod:`.cells`), the ImageNet weights of its encoders (:mod:`.imagenet`) and
the thesis's published values (:mod:`.thesis_tables`)."""
from .cells import (ARCHITECTURES, ENCODERS, PROTOCOLS, check_cell,
                    check_protocol, leaf_config_path, leaf_config_text)
from .imagenet import (IMAGENET_FILES, IMAGENET_URIS, NO_IMAGENET,
                       imagenet_cfg_options, imagenet_weights,
                       parse_imagenet_source)
from .thesis_tables import THESIS_TABLES_FILE, thesis_values

__all__ = [
    'ARCHITECTURES', 'ENCODERS', 'PROTOCOLS', 'check_cell', 'check_protocol',
    'leaf_config_path', 'leaf_config_text', 'IMAGENET_FILES', 'IMAGENET_URIS',
    'NO_IMAGENET', 'parse_imagenet_source', 'imagenet_weights',
    'imagenet_cfg_options', 'THESIS_TABLES_FILE', 'thesis_values'
]
