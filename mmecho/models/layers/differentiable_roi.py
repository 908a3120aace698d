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


def disc_kernel(radius: int) -> torch.Tensor:
    """``(1, 1, 2r+1, 2r+1)`` kernel: 1 where the offset is within ``radius``
    pixels (Euclidean), else 0."""
    r = int(radius)
    off = torch.arange(-r, r + 1, dtype=torch.float32)
    inside = off[:, None]**2 + off[None, :]**2 <= r * r
    return inside.float()[None, None]


def atrous_kernel() -> torch.Tensor:
    """The literal reading of the paper: a 3x3 mean kernel (used with
    ``dilation=dil``)."""
    return torch.full((1, 1, 3, 3), 1 / 9.0)


class DifferentiableROI(nn.Module):
    """Foreground probability -> binarise -> dilate -> re-binarise.

    ``b = sig(prob; slope, shift)`` is dilated by a fixed (not learnt)
    convolution and re-binarised by a second sigmoid with shift
    ``second_shift`` (0.01), which "retrieves the energy lost through the
    convolution": any pixel the convolution reaches becomes ~1.

    ``kernel='disc'`` (default): the convolution kernel is a filled disc of
    radius ``dil`` (weight 1 per tap), so ``g(p)`` is the (soft) number of
    binarised pixels within ``dil`` pixels of ``p`` and the ROI is the
    Minkowski sum of the structure with that disc: ONE region containing
    everything within ``dil`` px of the structure, whatever its thickness
    (the dilation of a connected structure stays connected).

    ``kernel='atrous'``: the paper's words taken literally, a 3x3 mean kernel
    with dilation rate ``dil``. A pixel is reached only when one of the nine
    points ``dil`` px apart around it is inside: for structures thinner than
    ``dil`` this gives three separated copies of the structure (with gaps),
    not a dilated region. Kept for comparison only.

    With several rates (RU-Net's "inception" variant) the maximum of the
    branches is taken before the second sigmoid: the union of the
    dilations (with discs, the largest rate's dilation).

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
        kernel (str): ``'disc'`` (default) or ``'atrous'`` (see above).

    Shapes:
        ``(B, 1, H, W)`` probability -> ``(B, 1, H, W)`` mask in [0, 1].
    """

    def __init__(self,
                 dilations: Sequence[int] = (11, ),
                 shift: float = 0.5,
                 slope: float = 100.0,
                 second_shift: float = 0.01,
                 kernel: str = 'disc') -> None:
        super().__init__()
        self.dilations = tuple(int(d) for d in dilations)
        if not self.dilations or min(self.dilations) < 1:
            raise ValueError(f'dilations must be >= 1, got {dilations}')
        if kernel not in ('disc', 'atrous'):
            raise ValueError(f"kernel must be 'disc' or 'atrous', got "
                             f'{kernel!r}')
        self.kernel_type = kernel
        self.shift = float(shift)
        self.slope = float(slope)
        self.second_shift = float(second_shift)
        if kernel == 'atrous':
            self.register_buffer('kernel', atrous_kernel())
        else:
            for d in self.dilations:
                self.register_buffer(
                    f'disc_{d}', disc_kernel(d), persistent=False)

    def _grow(self, binary: torch.Tensor, d: int) -> torch.Tensor:
        if self.kernel_type == 'atrous':
            return F.conv2d(
                binary, self.kernel.to(binary), padding=d, dilation=d)
        return F.conv2d(binary, getattr(self, f'disc_{d}').to(binary),
                        padding=d)

    def forward(self, prob: torch.Tensor) -> torch.Tensor:
        binary = parametrised_sigmoid(prob, self.slope, self.shift)
        grown = torch.stack([self._grow(binary, d)
                             for d in self.dilations]).amax(dim=0)
        return parametrised_sigmoid(grown, self.slope, self.second_shift)
