# Copyright (c) mmecho contributors. All rights reserved.
from .binary_seg_metric import BinarySegMetric
from .coco_metric import EchoCocoMetric, NameOrderedCOCO
from .echo_seg_metric import CAMUS_STRUCTURES, EchoSegMetric
from .mnms_vendor_metric import MnMsVendorMetric
from .registration_metric import RegistrationMetric
from .temporal_seg_metric import TemporalSegMetric

__all__ = [
    'BinarySegMetric', 'EchoCocoMetric', 'NameOrderedCOCO', 'EchoSegMetric', 'CAMUS_STRUCTURES',
    'RegistrationMetric', 'TemporalSegMetric', 'MnMsVendorMetric'
]
