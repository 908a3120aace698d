# Copyright (c) mmecho contributors. All rights reserved.
from .loading import CheckImageShape, LoadEchoFrame, LoadEchoLabelMap
from .random_crop_keep_fraction import RandomCropKeepFraction
from .random_place_pad import RandomPlacePad

__all__ = [
    'CheckImageShape', 'LoadEchoFrame', 'LoadEchoLabelMap',
    'RandomCropKeepFraction', 'RandomPlacePad'
]
