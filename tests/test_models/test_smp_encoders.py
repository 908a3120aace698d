"""The MobileNetV2 and EfficientNet encoders are segmentation_models_pytorch's
(smp 0.6.0, the thesis's library): level channels, strides, block cuts and
parameter counts.

Facts used (from smp 0.6.0 and torchvision, stated here, not computed):

* smp's encoders return ``depth + 1 = 6`` features; the first is the input
  (3 channels, stride 1), the others have strides 2, 4, 8, 16, 32. mmecho's
  encoders return the last five (levels 0..4).
* ``out_channels``: ``mobilenet_v2`` (3, 16, 24, 32, 96, 1280);
  ``efficientnet-b0`` / ``-b1`` (3, 32, 24, 40, 112, 320); ``-b3``
  (3, 40, 32, 48, 136, 384); ``-b5`` (3, 48, 40, 64, 176, 512); ``-b7``
  (3, 64, 48, 80, 224, 640).
* EfficientNet ``out_indexes`` (the last MBConv block of levels 1..4):
  b0 (2, 4, 8, 15), b1 (4, 7, 15, 22), b3 (4, 7, 17, 25),
  b5 (7, 12, 26, 38), b7 (10, 17, 37, 54).
* Encoder parameters smp runs (no classifier, no EfficientNet head conv):
  MobileNetV2 2,223,872 (torchvision's ``features``); EfficientNet b0
  3,595,388, b1 6,101,024, b3 10,103,336, b5 27,288,112, b7 62,143,440
  (lukemelas' 5,288,548 / 7,794,184 / 12,233,232 / 30,389,784 / 66,347,960
  minus ``_conv_head``, ``_bn1`` and ``_fc``).
* Whole-model live parameters with smp 0.6.0 (classes=4, in_channels=3,
  encoder_weights=None): see ``SMP_CELLS``.
"""
import pytest
import torch

from mmecho.models.backbones import EfficientNetEncoder, MobileNetV2Encoder
from mmecho.models.backbones.efficientnet_encoder import StaticSamePadConv2d
from ..conftest import ROOT

SMP_OUT_CHANNELS = {
    'mbv2': (3, 16, 24, 32, 96, 1280),
    'effb0': (3, 32, 24, 40, 112, 320),
    'effb1': (3, 32, 24, 40, 112, 320),
    'effb3': (3, 40, 32, 48, 136, 384),
    'effb5': (3, 48, 40, 64, 176, 512),
    'effb7': (3, 64, 48, 80, 224, 640),
}
SMP_STRIDES = (1, 2, 4, 8, 16, 32)
SMP_OUT_INDEXES = {
    'effb0': (2, 4, 8, 15),
    'effb1': (4, 7, 15, 22),
    'effb3': (4, 7, 17, 25),
    'effb5': (7, 12, 26, 38),
    'effb7': (10, 17, 37, 54),
}
SMP_ENCODER_PARAMS = {
    'mbv2': 2_223_872,
    'effb0': 3_595_388,
    'effb1': 6_101_024,
    'effb3': 10_103_336,
    'effb5': 27_288_112,
    'effb7': 62_143_440,
}
SMP_CELLS = {  # ../shared/docs/independent_references.md, section 1
    ('unet', 'mbv2'): 6_629_380,
    ('unet', 'effb0'): 5_839_744,
    ('unet', 'effb3'): 12_566_572,
    ('linknet', 'mbv2'): 4_319_958,
    ('linknet', 'effb0'): 3_755_108,
    ('linknet', 'effb3'): 10_334_156,
}


def _make(enc, **kwargs):
    if enc == 'mbv2':
        return MobileNetV2Encoder(**kwargs)
    return EfficientNetEncoder(arch=enc[3:], **kwargs)


def _n(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize('enc', list(SMP_OUT_CHANNELS))
def test_levels_are_smps(enc):
    e = _make(enc)
    assert e.out_channels == SMP_OUT_CHANNELS[enc][1:]
    assert e.strides == SMP_STRIDES[1:]
    assert _n(e) == SMP_ENCODER_PARAMS[enc]


@pytest.mark.parametrize('enc', list(SMP_OUT_CHANNELS))
def test_forward_shapes_64(enc):
    e = _make(enc).eval()
    with torch.no_grad():
        feats = e(torch.randn(2, 3, 64, 64))
    assert len(feats) == 5
    for f, c, s in zip(feats, SMP_OUT_CHANNELS[enc][1:], SMP_STRIDES[1:]):
        assert tuple(f.shape) == (2, c, 64 // s, 64 // s)


@pytest.mark.parametrize('enc', list(SMP_OUT_INDEXES))
def test_efficientnet_levels_end_at_smps_blocks(enc):
    e = _make(enc)
    # level 0 is the stem alone (conv 3x3/2, BN, Swish), no MBConv block
    assert not any(
        type(m).__name__ == 'InvertedResidual' for m in e._stages[0].modules())
    ends = []
    n = 0
    for stage in e._stages[1:]:
        n += len(stage)
        ends.append(n - 1)
    assert tuple(ends) == SMP_OUT_INDEXES[enc]
    # mmdet's layers: stem + five layers of MBConv blocks; the 1x1 head conv
    # (to 1280 * width) is not built
    assert len(e.body.layers) == 6
    assert all(
        type(b).__name__ == 'InvertedResidual' for layer in e.body.layers[1:]
        for b in layer)


def test_efficientnet_smp_details():
    e = _make('effb0')
    bns = [m for m in e.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {(m.eps, m.momentum) for m in bns} == {(1e-3, 0.01)}
    blocks = [b for stage in e._stages[1:] for b in stage]
    # drop connect 0.2 * i / 16 on the residual blocks only (smp/lukemelas)
    for i, b in enumerate(blocks):
        rate = getattr(b.drop_path, 'drop_prob', 0.0)
        expected = 0.2 * i / 16 if b.with_res_shortcut else 0.0
        assert rate == pytest.approx(expected)
    # SE squeezes to a quarter of the block input, with biases
    for b in blocks:
        cin = b.expand_conv.conv.in_channels if b.with_expand_conv else \
            b.depthwise_conv.conv.in_channels
        assert b.se.conv1.conv.out_channels == cin // 4
        assert b.se.conv1.conv.bias is not None
    # from scratch: PyTorch's default conv init (uniform, bound
    # 1/sqrt(fan_in)), as smp's EfficientNet; mmdet would draw He-normal
    e.init_weights()
    stem = e.body.layers[0].conv.weight
    assert stem.abs().max() <= 1 / 27**0.5 + 1e-6
    # static TF-SAME padding for 300x300 (b3): the 5x5/2 conv seeing 75x75
    # pads 2 on each side, where padding for the actual (even) input would
    # be (1, 2)
    b3 = _make('effb3')
    pads = [
        m.static_padding for m in b3.modules()
        if isinstance(m, StaticSamePadConv2d)
    ]
    assert pads == [(0, 1, 0, 1), (0, 1, 0, 1), (2, 2, 2, 2), (0, 1, 0, 1),
                    (2, 2, 2, 2)]


def test_truncated_levels_are_not_built():
    full = _make('effb0')
    cut = _make('effb0', out_indices=(0, 1, 2))
    assert cut.out_channels == (32, 24, 40)
    blocks = [b for layer in cut.body.layers[1:] for b in layer]
    assert len(blocks) == SMP_OUT_INDEXES['effb0'][1] + 1
    assert _n(cut) < _n(full) / 10
    m = _make('mbv2', out_indices=(0, 1, 2, 3))
    assert m.out_channels == (16, 24, 32, 96) and not hasattr(m.body, 'conv2')


@pytest.mark.parametrize('enc', ['mbv2', 'effb3'])
def test_dilated_levels_keep_shapes(enc):
    e = _make(enc, output_stride=8).eval()
    with torch.no_grad():
        feats = e(torch.randn(1, 3, 64, 96))
    assert e.strides == (2, 4, 8, 8, 8)
    for f, c, s in zip(feats, SMP_OUT_CHANNELS[enc][1:], e.strides):
        assert tuple(f.shape[1:]) == (c, 64 // s, 96 // s)


@pytest.mark.parametrize('enc', ['mbv2', 'effb0'])
def test_local_weights_load_into_body(enc, tmp_path):
    src = _make(enc)
    for p in src.parameters():
        torch.nn.init.constant_(p, 0.5)
    path = tmp_path / f'{enc}.pth'
    torch.save(src.body.state_dict(), path)
    dst = _make(enc, pretrained=str(path))
    dst.init_weights()  # must not overwrite the loaded weights
    for a, b in zip(src.parameters(), dst.parameters()):
        assert torch.equal(a, b)
    if enc == 'mbv2':  # mmpretrain's name of the 1x1 conv to 1280
        assert 'conv2.conv.weight' in src.body.state_dict()


@pytest.mark.parametrize('arch,enc', list(SMP_CELLS))
def test_cell_parameters_match_smp(arch, enc):
    from mmecho.grid import leaf_config_path
    from mmecho.utils import count_params
    n = count_params(f'{ROOT}/{leaf_config_path(arch, enc)}') * 1e6
    assert n == pytest.approx(SMP_CELLS[(arch, enc)], rel=0.01)
