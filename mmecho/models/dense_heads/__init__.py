# Copyright (c) mmecho contributors. All rights reserved.
from .mayolact_head import MaYOLACTHead
from .padding_aware_yolact_protonet import PaddingAwareYOLACTProtonet

__all__ = ['MaYOLACTHead', 'PaddingAwareYOLACTProtonet']
