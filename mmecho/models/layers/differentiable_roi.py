# Copyright (c) mmecho contributors. All rights reserved.
"""RU-Net's differentiable hard attention (Leclerc et al., IUS 2019, Eq. 1).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def parametrised_sigmoid(x: torch.Tensor, slope: float,
                         shift: float) -> torch.Tensor:
    """``1 / (1 + exp(-slope * (x - shift)))``: with slope 100 a quasi-binary
    threshold at ``shift`` that still has a gradient."""
    return torch.sigmoid(slope * (x - shift))


class DifferentiableROI(nn.Module):
    """Foreground probability -> binarise -> dilate -> re-binarise.

    The dilation is a fixed (not learnt) 3x3 mean filter with dilation rate
    ``dil``: a pixel is reached when any of the nine points ``dil`` pixels
    apart around it is inside, i.e. the mask grows by ``dil`` pixels. Its
    output (>= 1/9 wherever reached) is re-binarised by a second sigmoid
    with shift 0.01. With several rates (RU-Net's "inception" variant) the
    maximum of the branches is taken before the second sigmoid: the union
    of the dilations.

    With the paper's slope (100) and second shift (0.01) the mask is not 0
    outside the ROI but ``sigmoid(-1) = 0.27``: the image there is dimmed to
    27 %, not removed (Eq. 1 taken as printed; a larger ``slope`` or
    ``second_shift`` makes the mask harder).

    Args:
        dilations (Sequence[int]): Dilation rate(s), pixels (paper: 11;
            Table III: 30).
        shift (float): Threshold of the first sigmoid (paper: 0.5; Table
            III: 0.7).
        slope (float): Slope of both sigmoids (100).
        second_shift (float): Threshold of the second sigmoid (0.01).

    Shapes:
        ``(B, 1, H, W)`` probability -> ``(B, 1, H, W)`` mask in [0, 1].
    """

    def __init__(self,
                 dilations: Sequence[int] = (11, ),
                 shift: float = 0.5,
                 slope: float = 100.0,
                 second_shift: float = 0.01) -> None:
        super().__init__()
        self.dilations = tuple(int(d) for d in dilations)
        if not self.dilations or min(self.dilations) < 1:
            raise ValueError(f'dilations must be >= 1, got {dilations}')
        self.shift = float(shift)
        self.slope = float(slope)
        self.second_shift = float(second_shift)
        self.register_buffer('kernel', torch.full((1, 1, 3, 3), 1 / 9.0))

    def forward(self, prob: torch.Tensor) -> torch.Tensor:
        binary = parametrised_sigmoid(prob, self.slope, self.shift)
        grown = torch.stack([
            F.conv2d(binary, self.kernel.to(binary), padding=d, dilation=d)
            for d in self.dilations
        ]).amax(dim=0)
        return parametrised_sigmoid(grown, self.slope, self.second_shift)
