# Copyright (c) mmecho contributors. All rights reserved.
from .multiclass_dice_loss import MultiClassDiceLoss
from .registration_losses import (BendingEnergyLoss, DiffusionLoss,
                                  LocalNCCLoss, NCCLoss)

__all__ = [
    'MultiClassDiceLoss', 'NCCLoss', 'LocalNCCLoss', 'BendingEnergyLoss',
    'DiffusionLoss'
]
