# Copyright (c) mmecho contributors. All rights reserved.
from .mayolact_head import MaYOLACTHead

__all__ = ['MaYOLACTHead']
