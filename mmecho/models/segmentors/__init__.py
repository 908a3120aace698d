# Copyright (c) mmecho contributors. All rights reserved.
from .echo_encoder_decoder import EchoEncoderDecoder, fill_in_channels

__all__ = ['EchoEncoderDecoder', 'fill_in_channels']
