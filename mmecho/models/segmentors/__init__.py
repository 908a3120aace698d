# Copyright (c) mmecho contributors. All rights reserved.
from .cascade_segmentor import CascadeSegmentor, RUNet, StackedUNets
from .echo_encoder_decoder import EchoEncoderDecoder, fill_in_channels
from .sequence_segmentor import SequenceSegmentor

__all__ = [
    'EchoEncoderDecoder', 'fill_in_channels', 'CascadeSegmentor', 'RUNet',
    'StackedUNets', 'SequenceSegmentor'
]
