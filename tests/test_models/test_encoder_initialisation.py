"""Encoder initialisation: torchvision's from-scratch ResNet init, strict
loading through init_cfg, full-network checkpoints into shallower
encoders."""
import pytest
import torch

from mmecho.engine.checkpoint import CheckpointMismatchError
from mmecho.models.backbones import PlainConvEncoder, ResNetEncoder


def test_resnet_starts_as_torchvision_does():
    # torchvision.models.resnet: BN weight 1 and bias 0 everywhere
    # (zero_init_residual=False by default, as smp builds it)
    enc = ResNetEncoder(depth=18)
    enc.init_weights()
    bns = [m for m in enc.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 20
    for bn in bns:
        assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


def test_init_cfg_pretrained_is_loaded_strictly(tmp_path):
    good = ResNetEncoder(depth=18)
    path = tmp_path / 'r18.pth'
    torch.save(good.body.state_dict(), path)
    enc = ResNetEncoder(
        depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    enc.init_weights()
    for k, v in good.body.state_dict().items():
        assert torch.equal(enc.body.state_dict()[k], v), k
    # another network's file is an error, not a silent partial load
    other = tmp_path / 'r34.pth'
    torch.save(ResNetEncoder(depth=34).body.state_dict(), other)
    with pytest.raises(CheckpointMismatchError):
        ResNetEncoder(
            depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(other)))
    with pytest.raises(ValueError, match='prefix'):
        ResNetEncoder(
            depth=18,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(path), prefix='backbone'))
    with pytest.raises(ValueError, match='once'):
        ResNetEncoder(
            depth=18,
            pretrained=str(path),
            init_cfg=dict(type='Pretrained', checkpoint=str(path)))


def test_full_plain_encoder_checkpoint_loads_into_a_shallower_one(tmp_path):
    full = PlainConvEncoder(base_channels=8)
    path = tmp_path / 'plain.pth'
    torch.save(full.body.state_dict(), path)
    shallow = PlainConvEncoder(
        base_channels=8, out_indices=(0, 1, 2), pretrained=str(path))
    assert shallow.pretrained_report['unbuilt'] > 0
    for k, v in shallow.body.state_dict().items():
        assert torch.equal(v, full.body.state_dict()[k]), k
    # a file of other widths still fails
    wide = tmp_path / 'wide.pth'
    torch.save(PlainConvEncoder(base_channels=16).body.state_dict(), wide)
    with pytest.raises(CheckpointMismatchError):
        PlainConvEncoder(
            base_channels=8, out_indices=(0, 1, 2), pretrained=str(wide))


@pytest.mark.parametrize('output_stride', [16, 8])
def test_dilated_efficientnet_pads_inside_the_conv_with_the_same_output(
        output_stride):
    """smp pads its dilated stages inside the conv; mmcv's "SAME" padding
    (a padded copy of the map per call) must give the same output."""
    import copy

    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding

    from mmecho.models.backbones import EfficientNetEncoder
    torch.manual_seed(0)
    enc = EfficientNetEncoder(arch='b0', output_stride=output_stride).eval()
    dilated = [
        m for m in enc.modules()
        if isinstance(m, torch.nn.Conv2d) and m.dilation[0] > 1
        and m.kernel_size[0] > 1
    ]
    assert dilated and all(type(m) is torch.nn.Conv2d for m in dilated)
    ref = copy.deepcopy(enc)
    for m in ref.modules():
        if type(m) is torch.nn.Conv2d and m.dilation[0] > 1 and \
                m.kernel_size[0] > 1:
            m.__class__ = Conv2dAdaptivePadding
            m.padding = (0, 0)
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        for a, b in zip(enc(x), ref(x)):
            assert torch.allclose(a, b, atol=1e-6)
