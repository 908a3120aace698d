# Copyright (c) mmecho contributors. All rights reserved.
from .dice_bce_loss import DiceBCELoss, soft_dice
from .multiclass_dice_loss import MultiClassDiceLoss
from .registration_losses import (BendingEnergyLoss, DiffusionLoss,
                                  LocalNCCLoss, NCCLoss)

__all__ = [
    'MultiClassDiceLoss', 'DiceBCELoss', 'soft_dice', 'NCCLoss', 'LocalNCCLoss', 'BendingEnergyLoss',
    'DiffusionLoss'
]
