# Copyright (c) mmecho contributors. All rights reserved.
from .bspline_registration_net import BSplineRegistrationNet
from .pairwise_registrator import PairwiseRegistrator
from .voxelmorph_unet import VoxelMorphUNet

__all__ = ['BSplineRegistrationNet', 'VoxelMorphUNet', 'PairwiseRegistrator']
