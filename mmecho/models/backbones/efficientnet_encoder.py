# Copyright (c) mmecho contributors. All rights reserved.
"""EfficientNet-b0..b7 (mmdet's EfficientNet) as a 5-level encoder."""
import torch.nn as nn
from mmdet.models.backbones import EfficientNet

from mmecho.registry import MODELS
from .staged_encoder import StagedEncoder


@MODELS.register_module()
class EfficientNetEncoder(StagedEncoder):
    """Levels: stem + first MBConv block (stride 2), then the blocks ending
    at strides 4, 8, 16 (the 80/112-channel blocks) and 32 (192/320);
    the final 1x1 conv to 1280 channels is not used (as in smp).

    Args:
        arch (str): ``'b0'`` ... ``'b7'``.
        drop_path_rate (float): Stochastic depth.
        norm_cfg (dict): Normalisation layers.
        **kwargs: :class:`StagedEncoder` arguments.
    """

    def __init__(self,
                 arch: str = 'b0',
                 drop_path_rate: float = 0.0,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        # mmdet layer k+1 ends at level k; mmdet builds up to out_indices
        self.body = EfficientNet(
            arch=arch,
            drop_path_rate=drop_path_rate,
            out_indices=(self.num_levels, ),
            norm_cfg=norm_cfg)
        layers = self.body.layers
        stages = [nn.Sequential(layers[0], layers[1])
                  ] + [layers[k + 1] for k in range(1, self.num_levels)]

        def out_ch(layer):
            convs = [m for m in layer.modules() if isinstance(m, nn.Conv2d)]
            return convs[-1].out_channels

        channels = [out_ch(s) for s in stages]
        self._set_stages(stages, channels + [0] * (5 - len(channels)))
