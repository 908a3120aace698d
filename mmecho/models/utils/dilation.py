# Copyright (c) mmecho contributors. All rights reserved.
"""Turn a strided stage into a dilated one (atrous encoders for DeepLab/PAN).
"""
import torch.nn as nn


def make_dilated(stage: nn.Module, dilation: int) -> None:
    """Remove the stride-2 downsampling of ``stage`` and dilate its convs.

    Every ``nn.Conv2d`` with stride 2 gets stride 1; every conv with a kernel
    larger than 1 gets dilation ``dilation`` and the padding that keeps the
    spatial size (``(k // 2) * dilation``; convs that pad themselves, such as
    mmcv's ``Conv2dAdaptivePadding``, keep padding 0). Stride-2 max-pooling
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
                if not isinstance(m, Conv2dAdaptivePadding):
                    m.padding = ((kh // 2) * dilation, (kw // 2) * dilation)
        elif isinstance(m, nn.MaxPool2d):
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            if stride == 2:
                m.kernel_size, m.stride, m.padding = 1, 1, 0
