"""Unit tests of :class:`LightUNet` (``mmecho/models/backbones/
light_unet.py``), the body of the CAMUS U-Net 1 and of the RU-Net / SHG
stages."""
import math

import pytest
import torch

from mmecho.models import LightUNet
from mmecho.registry import MODELS


def test_default_is_unet1():
    """32/128/16 feature maps, 2**5 = 32x down to the bottom, 1,977,152
    parameters (1.98 M; the CAMUS paper's "2M"), no normalisation."""
    net = LightUNet()
    assert net.depth == 5 and net.out_channels == (16, )
    n = sum(p.numel() for p in net.parameters())
    assert n == 1977152
    assert not any(
        isinstance(m, torch.nn.modules.batchnorm._NormBase)
        for m in net.modules())


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
def test_output_is_a_full_resolution_one_tuple(mode):
    torch.manual_seed(0)
    net = MODELS.build(
        dict(
            type='LightUNet',
            encoder_channels=(4, 8, 8),
            decoder_channels=(8, 4),
            upsample_mode=mode,
            align_corners=True))
    out = net(torch.rand(2, 3, 32, 48))
    assert isinstance(out, tuple) and len(out) == 1
    assert tuple(out[0].shape) == (2, 4, 32, 48)
    assert net.align_corners is (None if mode == 'nearest' else True)
    out[0].pow(2).mean().backward()
    first = net.encoder[0][0].conv.weight.grad
    assert first is not None and first.abs().sum() > 0


def test_he_initialisation():
    """Default init_cfg: Kaiming fan_in for ReLU, std sqrt(2 / fan_in)."""
    torch.manual_seed(0)
    net = LightUNet()
    net.init_weights()
    conv = net.encoder[3][1].conv  # 128 -> 128, fan_in 1152
    fan_in = conv.in_channels * 9
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / fan_in), rel=0.05)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='upsample_mode'):
        LightUNet(upsample_mode='bicubic')
    with pytest.raises(ValueError, match='one entry per encoder level'):
        LightUNet(encoder_channels=(4, 8, 8), decoder_channels=(8, ))
