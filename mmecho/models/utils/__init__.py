# Copyright (c) mmecho contributors. All rights reserved.
from .dilation import make_dilated
from .label_map_postprocess import (apply_camus_postprocess,
                                    keep_largest_component_and_fill)

__all__ = [
    'make_dilated', 'keep_largest_component_and_fill',
    'apply_camus_postprocess'
]
