# Copyright (c) mmecho contributors. All rights reserved.
from .coco_metric import EchoCocoMetric, NameOrderedCOCO

__all__ = ['EchoCocoMetric', 'NameOrderedCOCO']
