# Copyright (c) mmecho contributors. All rights reserved.
"""Turn a strided stage into a dilated one (atrous encoders for DeepLab/PAN).
"""
import torch.nn as nn


def make_dilated(stage: nn.Module, dilation: int) -> None:
    """Remove the stride-2 downsampling of ``stage`` and dilate its convs.

    Every ``nn.Conv2d`` with stride 2 gets stride 1; every conv with a kernel
    larger than 1 gets dilation ``dilation`` and the padding that keeps the
    spatial size (``(k // 2) * dilation``). Convs that pad themselves "SAME"
    (mmcv's ``Conv2dAdaptivePadding`` and subclasses) pad symmetrically at
    stride 1 with an odd kernel, so they become plain ``nn.Conv2d`` with that
    padding inside the conv (as smp does), not a padded copy of the map per
    call. Stride-2 max-pooling
    becomes the identity. The module is changed in place; its parameters
    (and so any loaded weights) are untouched.

    Args:
        stage (nn.Module): One encoder stage, e.g. ResNet's ``layer4``.
        dilation (int): Dilation rate, typically 2 or 4.
    """
    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
    for m in stage.modules():
        if isinstance(m, nn.Conv2d):
            if tuple(m.stride) == (2, 2):
                m.stride = (1, 1)
            kh, kw = m.kernel_size
            if kh > 1 or kw > 1:
                m.dilation = (dilation, dilation)
                m.padding = ((kh // 2) * dilation, (kw // 2) * dilation)
                if isinstance(m, Conv2dAdaptivePadding):
                    if kh % 2 == 0 or kw % 2 == 0:
                        raise ValueError(
                            'make_dilated: an even kernel has no symmetric '
                            f'"SAME" padding ({m.kernel_size})')
                    m.__class__ = nn.Conv2d
        elif isinstance(m, nn.MaxPool2d):
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            if stride == 2:
                m.kernel_size, m.stride, m.padding = 1, 1, 0
