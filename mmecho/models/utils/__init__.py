# Copyright (c) mmecho contributors. All rights reserved.
from .dilation import make_dilated
from .label_map_postprocess import keep_largest_component_and_fill

__all__ = ['make_dilated', 'keep_largest_component_and_fill']
