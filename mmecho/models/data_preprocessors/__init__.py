# Copyright (c) mmecho contributors. All rights reserved.
from .echo_seg_data_preprocessor import EchoSegDataPreProcessor

__all__ = ['EchoSegDataPreProcessor']
