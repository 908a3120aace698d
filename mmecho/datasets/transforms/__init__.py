# Copyright (c) mmecho contributors. All rights reserved.
from .binarize_label import BinarizeLabel
from .loading import CheckImageShape, LoadEchoFrame, LoadEchoLabelMap
from .median_denoise import MedianDenoise
from .random_brightness_contrast import RandomBrightnessContrast
from .random_crop_keep_fraction import RandomCropKeepFraction
from .random_place_pad import RandomPlacePad
from .reset_original_shape import ResetOriginalShape
from .rgb_shift import RGBShift
from .shift_scale_rotate import ShiftScaleRotate
from .threshold_roi_crop import ThresholdROICrop

__all__ = [
    'CheckImageShape', 'LoadEchoFrame', 'LoadEchoLabelMap',
    'RandomCropKeepFraction', 'RandomPlacePad', 'ShiftScaleRotate',
    'RGBShift', 'RandomBrightnessContrast', 'BinarizeLabel',
    'ResetOriginalShape', 'MedianDenoise', 'ThresholdROICrop'
]
