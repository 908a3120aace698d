# Copyright (c) mmecho contributors. All rights reserved.
from .camus_info import read_camus_info, write_camus_info
from .dicom import (DicomImage, UltrasoundRegion, is_dicom, read_dicom,
                    write_us_dicom)
from mmecho.errors import DatasetFormatError
from .medical_image import (IMAGE_EXTENSIONS, find_image, load_medical_image,
                            read_image_shape, resolve_image,
                            save_medical_image, split_image_ext)
from .metaimage import read_metaimage, write_metaimage

__all__ = [
    'DatasetFormatError', 'read_camus_info', 'write_camus_info',
    'IMAGE_EXTENSIONS', 'find_image', 'load_medical_image', 'read_image_shape',
    'resolve_image', 'save_medical_image', 'split_image_ext', 'read_metaimage',
    'write_metaimage', 'DicomImage', 'UltrasoundRegion', 'is_dicom',
    'read_dicom', 'write_us_dicom'
]
