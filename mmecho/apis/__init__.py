# Copyright (c) mmecho contributors. All rights reserved.
from .instance_inference import (forward_network, inference_instance_model,
                                 init_instance_model)
from .mmode_measurer import MModeMeasurer

__all__ = [
    'forward_network', 'inference_instance_model', 'init_instance_model',
    'MModeMeasurer'
]

from .segmentation_inference import (  # noqa: E402
    SegmentationPrediction, inference_segmentor, init_segmentor)

__all__ += [
    'init_segmentor', 'inference_segmentor', 'SegmentationPrediction'
]
