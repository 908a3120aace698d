# Copyright (c) mmecho contributors. All rights reserved.
"""Medical image formats: NIfTI, MetaImage, ultrasound DICOM (CAMUS
``Info_*.cfg``: :mod:`mmecho.datasets.camus.info`)."""
from mmecho.errors import DatasetFormatError
from .dicom import (DicomImage, UltrasoundRegion, is_dicom, read_dicom,
                    write_us_dicom)
from .medical_image import (IMAGE_EXTENSIONS, find_image, load_medical_image,
                            read_image_shape, resolve_image,
                            save_medical_image, split_image_ext)
from .metaimage import read_metaimage, write_metaimage

__all__ = [
    'DatasetFormatError', 'IMAGE_EXTENSIONS', 'find_image',
    'load_medical_image', 'read_image_shape', 'resolve_image',
    'save_medical_image', 'split_image_ext', 'read_metaimage',
    'write_metaimage', 'DicomImage', 'UltrasoundRegion', 'is_dicom',
    'read_dicom', 'write_us_dicom'
]
