# Copyright (c) mmecho contributors. All rights reserved.
from .multiclass_dice_loss import MultiClassDiceLoss

__all__ = ['MultiClassDiceLoss']
