# Copyright (c) mmecho contributors. All rights reserved.
from .loading import CheckImageShape, LoadEchoFrame, LoadEchoLabelMap

__all__ = ['CheckImageShape', 'LoadEchoFrame', 'LoadEchoLabelMap']
