# Copyright (c) mmecho contributors. All rights reserved.
from .coco_metric import EchoCocoMetric, NameOrderedCOCO
from .echo_seg_metric import CAMUS_STRUCTURES, EchoSegMetric

__all__ = [
    'EchoCocoMetric', 'NameOrderedCOCO', 'EchoSegMetric', 'CAMUS_STRUCTURES'
]
