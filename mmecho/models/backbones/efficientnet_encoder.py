# Copyright (c) mmecho contributors. All rights reserved.
"""EfficientNet-b0..b7 (mmdet's EfficientNet) as a 5-level encoder, cut and
configured as segmentation_models_pytorch's ``efficientnet-bX`` encoder.

smp (0.6) wraps lukemelas' EfficientNet-PyTorch. mmdet's ``EfficientNet``
builds the same blocks (kernel, stride, expand ratio, widths rounded to
multiples of 8, repeats ``ceil(depth_coefficient * r)``, SE squeezing to a
quarter of the block's *input* channels with bias, Swish activations, no
bias on the BN'd convs, residual only for stride 1 and equal widths), so the
parameters are identical block by block. What this wrapper changes to be
smp's network:

* levels: the stem (conv 3x3/2 + BN + Swish) is level 0 on its own; levels
  1..4 end at smp's ``out_indexes`` (the index of the last block of each
  level). mmdet groups the blocks differently (stride-1 stages are merged
  into the previous one), so levels are views over mmdet's blocks, and for
  b0 smp's stride-16 level ends after the *first* 112-channel block;
* the head (1x1 conv to 1280, BN) and the classifier are not built (smp
  keeps ``_conv_head``/``_bn1`` but never runs them);
* BN ``eps=1e-3, momentum=0.01`` (TF's 0.99), as lukemelas;
* stochastic depth ("drop connect") on the residual blocks with rate
  ``drop_path_rate * i / N`` for block ``i`` of the full network's ``N``
  blocks (smp: ``0.2 * i / len(blocks)``; mmdet's ``linspace`` ends at the
  full rate);
* TF "SAME" padding of the stride-2 convs is static, computed for the
  variant's ImageNet resolution (224, 240, 260, 300, 380, 456, 528, 600) as
  lukemelas' ``Conv2dStaticSamePadding``; mmdet pads dynamically for the
  actual input, which differs where that resolution's feature map is odd
  (every variant but b0: symmetric instead of one-sided padding in one or
  two stride-2 convs). Stride-1 convs pad symmetrically in
  both. Stages dilated for output stride 16/8 pad symmetrically too (smp
  drops the static padding there);
* from scratch, convs keep PyTorch's default initialisation (see
  :meth:`EfficientNetEncoder.init_weights`).
"""
import math
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
from mmdet.models.backbones import EfficientNet

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder

# smp 0.6 ``efficient_net_encoders``: for each variant, the ImageNet
# resolution lukemelas' static padding is computed for, the index of the last
# block of levels 1..4 (smp's ``out_indexes``) and smp's ``out_channels``
# without the input (3): the stem width, then the widths of levels 1..4.
SMP_EFFICIENTNET = {
    'b0': (224, (2, 4, 8, 15), (32, 24, 40, 112, 320)),
    'b1': (240, (4, 7, 15, 22), (32, 24, 40, 112, 320)),
    'b2': (260, (4, 7, 15, 22), (32, 24, 48, 120, 352)),
    'b3': (300, (4, 7, 17, 25), (40, 32, 48, 136, 384)),
    'b4': (380, (5, 9, 21, 31), (48, 32, 56, 160, 448)),
    'b5': (456, (7, 12, 26, 38), (48, 40, 64, 176, 512)),
    'b6': (528, (8, 14, 30, 44), (56, 40, 72, 200, 576)),
    'b7': (600, (10, 17, 37, 54), (64, 48, 80, 224, 640)),
}


def same_padding(size: int,
                 kernel: int,
                 stride: int,
                 dilation: int = 1) -> Tuple[int, int]:
    """TF "SAME" padding (before, after) of one spatial dimension: the
    output has ``ceil(size / stride)`` elements, the odd extra pixel goes
    after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class StaticSamePadConv2d(Conv2dAdaptivePadding):
    """A conv whose "SAME" padding is fixed for one input size while it has
    its original stride (lukemelas' ``Conv2dStaticSamePadding``); once
    :func:`make_dilated` has set its stride to 1 it pads as
    ``Conv2dAdaptivePadding`` (symmetric, ``(k // 2) * dilation``), as smp's
    dilated stages do. State-dict keys are a conv's (``weight``, ``bias``).

    Args:
        conv (nn.Conv2d): The conv to take the parameters and geometry from.
        image_size (int): Input size (square) the padding is computed for.
    """

    def __init__(self, conv: nn.Conv2d, image_size: int) -> None:
        super().__init__(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None)
        self.weight = conv.weight
        self.bias = conv.bias
        self.static_stride = tuple(self.stride)
        ph = same_padding(image_size, self.kernel_size[0], self.stride[0],
                          self.dilation[0])
        pw = same_padding(image_size, self.kernel_size[1], self.stride[1],
                          self.dilation[1])
        self.static_padding = (pw[0], pw[1], ph[0], ph[1])  # F.pad order

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(self.stride) != self.static_stride:  # dilated
            return super().forward(x)
        x = F.pad(x, list(self.static_padding))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)


@MODELS.register_module()
class EfficientNetEncoder(StagedEncoder):
    """Levels (smp's ``efficientnet-bX``): the stem (stride 2; 32 channels for
    b0/b1, 40 b3, 48 b5, 64 b7), then the MBConv blocks up to smp's
    ``out_indexes`` (strides 4, 8, 16, 32; b0: 24, 40, 112, 320 channels;
    b7: 48, 80, 224, 640). The 1x1 head conv to 1280 is not built.

    Args:
        arch (str): ``'b0'`` ... ``'b7'``.
        drop_path_rate (float): Stochastic depth of the residual blocks: block
            ``i`` of ``N`` drops its branch with ``drop_path_rate * i / N``
            in training (smp/lukemelas: 0.2).
        norm_cfg (dict): Normalisation layers (lukemelas: BN with
            ``eps=1e-3`` and PyTorch ``momentum=0.01``).
        act_cfg (dict): Activation of the blocks and of the SE squeeze.
            ``SiLU`` (PyTorch's fused ``x * sigmoid(x)``, what lukemelas'
            Swish computes) by default; mmdet's ``Swish`` is the same
            function as two separate operations (a multiply and a sigmoid,
            each a pass over the feature map): it made this encoder 1.2x
            slower than smp's on CPU, with the same outputs. Not in place:
            in training an in-place SiLU makes autograd copy its input.
        static_padding (bool): Pad the stride-2 convs for the variant's
            ImageNet resolution as lukemelas/smp do (True) or for the actual
            input as mmdet does (False).
        **kwargs: :class:`StagedEncoder` arguments.

    ``pretrained`` takes lukemelas' ImageNet files, the ones smp's
    ``efficientnet-bX`` encoders use (``efficientnet-b0-355c32eb.pth``
    ...), as published: block ``_blocks.N`` is mmdet's N-th block
    (:attr:`block_names`); the head and classifier are left out. A
    checkpoint in mmdet's layout loads as it is.

    Attributes:
        block_names (list[str]): mmdet's name (``layers.L.J``) of the full
            network's N-th MBConv block, built or not.
    """

    imagenet_layout = 'lukemelas_efficientnet'

    def __init__(self,
                 arch: str = 'b0',
                 drop_path_rate: float = 0.2,
                 norm_cfg: dict = dict(
                     type='BN', eps=1e-3, momentum=0.01, requires_grad=True),
                 act_cfg: dict = dict(type='SiLU', inplace=False),
                 static_padding: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if arch not in SMP_EFFICIENTNET:
            raise ValueError(f'arch must be one of {sorted(SMP_EFFICIENTNET)}'
                             f', got {arch!r}')
        image_size, last_blocks, channels = SMP_EFFICIENTNET[arch]
        self.arch = arch
        # mmdet's layers: 0 stem, 1..5 blocks (16 / 24 / 40 / 80+112 /
        # 192+320 channels), 6 head. out_indices=(5, ) builds no head.
        self.body = EfficientNet(
            arch=arch,
            drop_path_rate=0.0,  # set per block below (smp's schedule)
            out_indices=(5, ),
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        layers = self.body.layers
        blocks = [blk for layer in layers[1:] for blk in layer]
        self.block_names = [
            f'layers.{li}.{j}' for li in range(1, len(layers))
            for j in range(len(layers[li]))
        ]
        n_blocks = last_blocks[-1] + 1
        if len(blocks) != n_blocks:
            raise RuntimeError(f'mmdet built {len(blocks)} blocks for {arch}, '
                               f'smp has {n_blocks}')
        for i, blk in enumerate(blocks):
            rate = drop_path_rate * i / n_blocks
            if blk.with_res_shortcut and rate > 0:
                blk.drop_path = DropPath(rate)
        if static_padding:
            self._use_static_padding(blocks, image_size)

        stages = [layers[0]]
        start = 0
        for end in last_blocks[:self.num_levels - 1]:
            stages.append(nn.Sequential(*blocks[start:end + 1]))
            start = end + 1
        self._drop_unused_blocks(start)
        self._set_stages(
            stages, channels[:self.num_levels] + (0, ) * (5 - self.num_levels))

    def init_weights(self) -> None:
        """Without ``pretrained`` or ``init_cfg``: PyTorch's default
        initialisation of every conv and BN, which is what smp's
        EfficientNet has when trained from scratch (lukemelas' model and smp
        initialise only decoder and head; mmdet would re-draw the convs
        He-normal)."""
        if self.pretrained or self.init_cfg:
            super().init_weights()
            return
        for m in self.body.modules():
            if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)):
                m.reset_parameters()
        self._is_init = True

    def _use_static_padding(self, blocks: Sequence[nn.Module],
                            image_size: int) -> None:
        """Replace the stride-2 convs by :class:`StaticSamePadConv2d` for the
        feature-map size they see at ``image_size`` input."""
        size = image_size
        for owner in [self.body.layers[0]
                      ] + [b.depthwise_conv for b in blocks]:
            conv = owner.conv  # mmcv ConvModule
            stride = conv.stride[0]
            if stride > 1:
                owner.conv = StaticSamePadConv2d(conv, size)
            size = math.ceil(size / stride)

    def _drop_unused_blocks(self, n_keep: int) -> None:
        """Delete the blocks after the first ``n_keep`` (levels not built)
        from ``body``."""
        seen = 0
        layers = self.body.layers
        # the head conv (mmdet's last layer) is never built
        unbuilt = [f'layers.{len(self.body.layer_setting) - 1}']
        for li in range(1, len(layers)):
            layer = layers[li]
            keep = max(0, min(len(layer), n_keep - seen))
            seen += len(layer)
            for j in range(len(layer) - 1, keep - 1, -1):
                unbuilt.append(f'layers.{li}.{j}')
                del layer[j]
        while len(layers) > 1 and len(layers[-1]) == 0:
            del layers[len(layers) - 1]
        self.unbuilt_prefixes = tuple(unbuilt)
