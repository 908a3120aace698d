"""ImageNet weights in their published layouts load into the grid encoders.

No file is downloaded: the checkpoints are fabricated here, tensor by tensor,
with the names and shapes of the published files (random values), from these
facts (torchvision ``resnet.py`` / ``mobilenetv2.py``, lukemelas
EfficientNet-PyTorch ``model.py`` / ``utils.py``; stated, not imported):

* torchvision ResNet: ``conv1`` 7x7 64, ``bn1``, ``layer1..4`` of
  BasicBlock (``conv1``/``bn1``, ``conv2``/``bn2``; 3x3) or Bottleneck
  (``conv1`` 1x1, ``conv2`` 3x3, ``conv3`` 1x1 x4, ``bn1..3``) with
  ``downsample.0`` (1x1 conv) / ``downsample.1`` (BN) on the first block when
  the stride or width changes; ``fc`` (1000). Blocks: 18 (2, 2, 2, 2),
  34 / 50 (3, 4, 6, 3), 101 (3, 4, 23, 3). ResNet-18 has 11,689,512
  parameters, ResNet-50 25,557,032.
* torchvision MobileNetV2: ``features.0`` = conv 3x3 32 (``.0``) + BN
  (``.1``); inverted residuals (t, c, n, s) = (1, 16, 1, 1), (6, 24, 2, 2),
  (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
  (6, 320, 1, 1): ``conv.0`` (1x1 expand conv+BN, only if t != 1), then the
  depthwise conv+BN, then ``conv.N`` 1x1 project conv and ``conv.N+1`` BN;
  ``features.18`` = 1x1 conv 1280 + BN; ``classifier.1`` Linear(1280, 1000).
  3,504,872 parameters.
* lukemelas EfficientNet: ``_conv_stem`` (3x3, round_filters(32)),
  ``_bn0``; blocks from ``r1_k3_s11_e1_i32_o16``, ``r2_k3_s22_e6_i16_o24``,
  ``r2_k5_s22_e6_i24_o40``, ``r3_k3_s22_e6_i40_o80``,
  ``r3_k5_s11_e6_i80_o112``, ``r4_k5_s22_e6_i112_o192``,
  ``r1_k3_s11_e6_i192_o320`` (SE 0.25 of the block's input, with bias),
  repeats ``ceil(depth * r)``, widths ``round_filters`` (multiple of 8, not
  under 90 %); b0 (1.0, 1.0), b3 (1.2, 1.4); ``_conv_head`` 1x1 to
  round_filters(1280), ``_bn1``, ``_fc``. b0 has 5,288,548 parameters,
  b3 12,233,232.
"""
import math
import re
from collections import OrderedDict

import pytest
import torch
from mmengine import Config

from mmecho.engine.checkpoint import CheckpointMismatchError
from mmecho.grid import (IMAGENET_FILES, imagenet_cfg_options,
                         imagenet_weights, leaf_config_path,
                         parse_imagenet_source)
from mmecho.models.backbones import (EfficientNetEncoder, MobileNetV2Encoder,
                                     PlainConvEncoder, ResNetEncoder)
from mmecho.models.backbones.imagenet_weights import detect_layout
from ..conftest import ROOT


def _bn(prefix, c, counters=True):
    out = [(f'{prefix}.weight', (c, )), (f'{prefix}.bias', (c, )),
           (f'{prefix}.running_mean', (c, )), (f'{prefix}.running_var', (c, ))]
    if counters:
        out.append((f'{prefix}.num_batches_tracked', ()))
    return out


def torchvision_resnet_shapes(depth):
    bottleneck = depth >= 50
    blocks = {
        18: (2, 2, 2, 2),
        34: (3, 4, 6, 3),
        50: (3, 4, 6, 3),
        101: (3, 4, 23, 3)
    }[depth]
    exp = 4 if bottleneck else 1
    s = [('conv1.weight', (64, 3, 7, 7))] + _bn('bn1', 64)
    inplanes = 64
    for li, (n, planes) in enumerate(zip(blocks, (64, 128, 256, 512)), 1):
        for b in range(n):
            p = f'layer{li}.{b}'
            if bottleneck:
                s += [(f'{p}.conv1.weight', (planes, inplanes, 1, 1))]
                s += _bn(f'{p}.bn1', planes)
                s += [(f'{p}.conv2.weight', (planes, planes, 3, 3))]
                s += _bn(f'{p}.bn2', planes)
                s += [(f'{p}.conv3.weight', (planes * 4, planes, 1, 1))]
                s += _bn(f'{p}.bn3', planes * 4)
            else:
                s += [(f'{p}.conv1.weight', (planes, inplanes, 3, 3))]
                s += _bn(f'{p}.bn1', planes)
                s += [(f'{p}.conv2.weight', (planes, planes, 3, 3))]
                s += _bn(f'{p}.bn2', planes)
            stride = 1 if li == 1 else 2
            if b == 0 and (stride != 1 or inplanes != planes * exp):
                s += [(f'{p}.downsample.0.weight', (planes * exp, inplanes, 1,
                                                    1))]
                s += _bn(f'{p}.downsample.1', planes * exp)
            inplanes = planes * exp
    s += [('fc.weight', (1000, 512 * exp)), ('fc.bias', (1000, ))]
    return s


def torchvision_mobilenet_v2_shapes():
    setting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
               (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    s = [('features.0.0.weight', (32, 3, 3, 3))] + _bn('features.0.1', 32)
    inp, i = 32, 1
    for t, c, n, _ in setting:
        for _ in range(n):
            p = f'features.{i}.conv'
            hidden = inp * t
            j = 0
            if t != 1:
                s += [(f'{p}.0.0.weight', (hidden, inp, 1, 1))]
                s += _bn(f'{p}.0.1', hidden)
                j = 1
            s += [(f'{p}.{j}.0.weight', (hidden, 1, 3, 3))]
            s += _bn(f'{p}.{j}.1', hidden)
            s += [(f'{p}.{j + 1}.weight', (c, hidden, 1, 1))]
            s += _bn(f'{p}.{j + 2}', c)
            inp, i = c, i + 1
    s += [(f'features.{i}.0.weight', (1280, inp, 1, 1))]
    s += _bn(f'features.{i}.1', 1280)
    s += [('classifier.1.weight', (1000, 1280)),
          ('classifier.1.bias', (1000, ))]
    return s


def _round_filters(f, width):
    f = f * width
    new = max(8, int(f + 4) // 8 * 8)
    if new < 0.9 * f:
        new += 8
    return int(new)


def lukemelas_efficientnet_shapes(width, depth, counters=False):
    args = [
        'r1_k3_s11_e1_i32_o16', 'r2_k3_s22_e6_i16_o24', 'r2_k5_s22_e6_i24_o40',
        'r3_k3_s22_e6_i40_o80', 'r3_k5_s11_e6_i80_o112',
        'r4_k5_s22_e6_i112_o192', 'r1_k3_s11_e6_i192_o320'
    ]
    stem = _round_filters(32, width)
    s = [('_conv_stem.weight', (stem, 3, 3, 3))] + _bn('_bn0', stem, counters)
    n = 0
    for a in args:
        r, k, _, e, i, o = (int(x) for x in re.findall(r'\d+', a))
        inp, out = _round_filters(i, width), _round_filters(o, width)
        for rep in range(int(math.ceil(depth * r))):
            p = f'_blocks.{n}'
            mid = inp * e
            if e != 1:
                s += [(f'{p}._expand_conv.weight', (mid, inp, 1, 1))]
                s += _bn(f'{p}._bn0', mid, counters)
            s += [(f'{p}._depthwise_conv.weight', (mid, 1, k, k))]
            s += _bn(f'{p}._bn1', mid, counters)
            sq = max(1, int(inp * 0.25))
            s += [(f'{p}._se_reduce.weight', (sq, mid, 1, 1)),
                  (f'{p}._se_reduce.bias', (sq, )),
                  (f'{p}._se_expand.weight', (mid, sq, 1, 1)),
                  (f'{p}._se_expand.bias', (mid, )),
                  (f'{p}._project_conv.weight', (out, mid, 1, 1))]
            s += _bn(f'{p}._bn2', out, counters)
            inp, n = out, n + 1
    head = _round_filters(1280, width)
    s += [('_conv_head.weight', (head, inp, 1, 1))]
    s += _bn('_bn1', head, counters)
    s += [('_fc.weight', (1000, head)), ('_fc.bias', (1000, ))]
    return s


PUBLISHED = {
    'r18': (lambda: torchvision_resnet_shapes(18), 11_689_512),
    'r34': (lambda: torchvision_resnet_shapes(34), 21_797_672),
    'r50': (lambda: torchvision_resnet_shapes(50), 25_557_032),
    'mbv2': (torchvision_mobilenet_v2_shapes, 3_504_872),
    'effb0': (lambda: lukemelas_efficientnet_shapes(1.0, 1.0), 5_288_548),
    'effb3': (lambda: lukemelas_efficientnet_shapes(1.2, 1.4), 12_233_232),
}
ENCODER = {
    'r18': lambda **kw: ResNetEncoder(depth=18, **kw),
    'r34': lambda **kw: ResNetEncoder(depth=34, **kw),
    'r50': lambda **kw: ResNetEncoder(depth=50, **kw),
    'mbv2': lambda **kw: MobileNetV2Encoder(**kw),
    'effb0': lambda **kw: EfficientNetEncoder(arch='b0', **kw),
    'effb3': lambda **kw: EfficientNetEncoder(arch='b3', **kw),
}
# published tensors the encoders do not hold
DROPPED = re.compile(r'^(fc\.|classifier\.|_fc\.|_conv_head\.|_bn1\.)')


def fabricate(enc, seed=0):
    """A state dict with the published names and shapes, every tensor a
    distinct random one."""
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for name, shape in PUBLISHED[enc][0]():
        if name.endswith('num_batches_tracked'):
            sd[name] = torch.randint(1, 2**40, (), generator=g)
        else:
            sd[name] = torch.randn(shape, generator=g)
    return sd


def _fingerprint(t):
    return (t.dtype, tuple(t.shape), t.numpy().tobytes())


@pytest.mark.parametrize('enc', list(PUBLISHED))
def test_fabricated_files_have_the_published_parameter_counts(enc):
    n = sum(
        math.prod(s) for k, s in PUBLISHED[enc][0]()
        if not re.search(r'running_|num_batches', k))
    assert n == PUBLISHED[enc][1]


@pytest.mark.parametrize('enc', ['r18', 'r50', 'mbv2', 'effb0', 'effb3'])
def test_published_layout_loads_every_tensor(enc, tmp_path):
    sd = fabricate(enc)
    path = tmp_path / IMAGENET_FILES[enc][0]
    torch.save(sd, path)
    e = ENCODER[enc](pretrained=str(path))
    e.init_weights()  # must keep the loaded weights
    counters = any(k.endswith('num_batches_tracked') for k in sd)
    body = OrderedDict((k, v) for k, v in e.body.state_dict().items()
                       if counters or not k.endswith('num_batches_tracked'))
    # all by count and value: every encoder tensor is one fabricated tensor,
    # each fabricated one (classifier / head excepted) is used exactly once
    kept = OrderedDict((k, v) for k, v in sd.items() if not DROPPED.match(k))
    by_value = {_fingerprint(v): k for k, v in kept.items()}
    assert len(by_value) == len(kept)
    source = OrderedDict()
    for k, v in body.items():
        fp = _fingerprint(v)
        assert fp in by_value, f'{k} holds no tensor of the file'
        source[k] = by_value[fp]
    assert len(body) == len(kept) == len(set(source.values()))
    # the modules keep their order: the file's tensors in the encoder's order
    # are the file's own order
    assert list(source.values()) == list(kept)
    # and the leaf names agree (weight/bias/running stats)
    for k, s in source.items():
        assert k.rsplit('.', 1)[1] == s.rsplit('.', 1)[1], (k, s)
    assert e.pretrained_report['layout'] == detect_layout(sd)
    assert e.pretrained_report['loaded'] == len(kept)
    # a few by name
    expect = {
        'r18': {
            'conv1.weight': 'conv1.weight',
            'bn1.running_var': 'bn1.running_var',
            'layer2.0.downsample.0.weight': 'layer2.0.downsample.0.weight',
            'layer4.1.bn2.bias': 'layer4.1.bn2.bias'
        },
        'r50': {
            'layer1.0.downsample.0.weight': 'layer1.0.downsample.0.weight',
            'layer1.0.downsample.1.running_mean':
            'layer1.0.downsample.1.running_mean',
            'layer3.5.conv3.weight': 'layer3.5.conv3.weight',
            'layer4.2.bn3.weight': 'layer4.2.bn3.weight'
        },
        'mbv2': {
            'conv1.conv.weight': 'features.0.0.weight',
            'conv1.bn.running_mean': 'features.0.1.running_mean',
            'layer1.0.conv.0.conv.weight': 'features.1.conv.0.0.weight',
            'layer1.0.conv.1.conv.weight': 'features.1.conv.1.weight',
            'layer1.0.conv.1.bn.bias': 'features.1.conv.2.bias',
            'layer2.1.conv.0.bn.weight': 'features.3.conv.0.1.weight',
            'layer2.1.conv.2.conv.weight': 'features.3.conv.2.weight',
            'layer2.1.conv.2.bn.running_var': 'features.3.conv.3.running_var',
            'layer5.2.conv.1.conv.weight': 'features.13.conv.1.0.weight',
            'layer7.0.conv.2.conv.weight': 'features.17.conv.2.weight',
            'conv2.conv.weight': 'features.18.0.weight',
            'conv2.bn.bias': 'features.18.1.bias'
        },
        'effb0': {
            'layers.0.conv.weight':
            '_conv_stem.weight',
            'layers.0.bn.running_var':
            '_bn0.running_var',
            'layers.1.0.depthwise_conv.conv.weight':
            '_blocks.0._depthwise_conv.weight',
            'layers.1.0.depthwise_conv.bn.weight':
            '_blocks.0._bn1.weight',
            'layers.2.0.expand_conv.bn.bias':
            '_blocks.1._bn0.bias',
            'layers.2.1.se.conv1.conv.bias':
            '_blocks.2._se_reduce.bias',
            'layers.4.5.se.conv2.conv.weight':
            '_blocks.10._se_expand.weight',
            'layers.5.4.linear_conv.conv.weight':
            '_blocks.15._project_conv.weight',
            'layers.5.4.linear_conv.bn.running_mean':
            '_blocks.15._bn2.running_mean'
        },
        'effb3': {
            'layers.1.1.depthwise_conv.conv.weight':
            '_blocks.1._depthwise_conv.weight',
            'layers.1.1.linear_conv.bn.weight': '_blocks.1._bn2.weight',
            'layers.2.0.expand_conv.conv.weight':
            '_blocks.2._expand_conv.weight',
            'layers.5.7.linear_conv.conv.weight':
            '_blocks.25._project_conv.weight'
        },
    }[enc]
    for k, s in expect.items():
        assert source[k] == s
        assert torch.equal(body[k], sd[s])
    if enc == 'effb3':  # both expand-ratio-1 blocks have no expand conv
        assert not any(
            k.startswith(('layers.1.0.expand', 'layers.1.1.expand'))
            for k in body)
    # BN counters the file lacks (lukemelas) are no reason to refuse
    assert any(k.endswith('num_batches_tracked') for k in e.body.state_dict())


def test_levels_not_built_are_skipped_and_reported(tmp_path):
    sd = fabricate('effb0')
    path = tmp_path / 'efficientnet-b0-355c32eb.pth'
    torch.save(sd, path)
    e = EfficientNetEncoder(
        arch='b0', out_indices=(0, 1, 2), pretrained=str(path))
    assert torch.equal(e.body.layers[3][1].linear_conv.conv.weight,
                       sd['_blocks.4._project_conv.weight'])
    assert e.pretrained_report['unbuilt'] > 0
    sd = fabricate('r50')
    path = tmp_path / 'resnet50-19c8e357.pth'
    torch.save(sd, path)
    r = ResNetEncoder(depth=50, out_indices=(0, 1, 2), pretrained=str(path))
    assert torch.equal(r.body.layer2[0].downsample[1].running_var,
                       sd['layer2.0.downsample.1.running_var'])
    assert not hasattr(r.body, 'layer3')


def test_own_layout_and_wrapped_checkpoints_load(tmp_path):
    src = MobileNetV2Encoder()
    for p in src.parameters():
        torch.nn.init.normal_(p)
    path = tmp_path / 'mmpretrain_like.pth'
    torch.save(
        dict(
            meta=dict(epoch=3),
            state_dict={
                **{
                    f'backbone.{k}': v
                    for k, v in src.body.state_dict().items()
                }, 'head.fc.weight': torch.zeros(1000, 1280)
            }), path)
    dst = MobileNetV2Encoder(pretrained=str(path))
    assert dst.pretrained_report['layout'] == 'encoder'
    for a, b in zip(src.parameters(), dst.parameters()):
        assert torch.equal(a, b)
    # a published file wrapped in 'state_dict'
    sd = fabricate('r18')
    path = tmp_path / 'wrapped.pth'
    torch.save({'state_dict': sd}, path)
    r = ResNetEncoder(depth=18, pretrained=str(path))
    assert torch.equal(r.body.layer3[1].conv2.weight,
                       sd['layer3.1.conv2.weight'])


@pytest.mark.parametrize('enc,damage',
                         [('mbv2', 'missing'), ('effb3', 'shape'),
                          ('r18', 'missing')])
def test_a_damaged_file_is_refused_naming_it(enc, damage, tmp_path):
    sd = fabricate(enc)
    victim = {
        'mbv2': 'features.7.conv.1.0.weight',
        'effb3': '_blocks.1._se_reduce.weight',
        'r18': 'layer3.0.downsample.1.running_var'
    }[enc]
    if damage == 'missing':
        del sd[victim]
    else:
        sd[victim] = torch.randn(7, 24, 1, 1)
    path = tmp_path / f'damaged_{enc}.pth'
    torch.save(sd, path)
    with pytest.raises(CheckpointMismatchError) as err:
        ENCODER[enc](pretrained=str(path))
    msg = str(err.value)
    assert str(path) in msg
    if damage == 'missing':
        assert '1 of the encoder' in msg and 'missing' in msg
    else:
        assert '1 with other shapes' in msg and '(7, 24, 1, 1)' in msg


def test_unrelated_or_wrong_variant_files_are_refused(tmp_path):
    # an arbitrary layout: nothing fits -> no silent partial load
    path = tmp_path / 'unrelated.pth'
    torch.save(
        {
            'encoder.stem.w': torch.randn(64, 3, 7, 7),
            'encoder.blocks.0.w': torch.randn(64, 64, 3, 3)
        }, path)
    for make in (lambda **kw: ResNetEncoder(depth=18, **kw),
                 lambda **kw: EfficientNetEncoder(arch='b0', **kw),
                 lambda **kw: PlainConvEncoder(**kw)):
        with pytest.raises(CheckpointMismatchError, match='unrelated.pth'):
            make(pretrained=str(path))
    # a partly matching one (the stem only) is refused too
    sd = fabricate('r18')
    path = tmp_path / 'stem_only.pth'
    torch.save({
        k: v
        for k, v in sd.items() if k.startswith(('conv1', 'bn1'))
    }, path)
    with pytest.raises(
            CheckpointMismatchError, match=r'stem_only.pth.*missing'):
        ResNetEncoder(depth=18, pretrained=str(path))
    # ResNet-34's file into ResNet-18: every r18 tensor fits, but the extra
    # blocks are not the encoder's
    path = tmp_path / IMAGENET_FILES['r34'][0]
    torch.save(fabricate('r34'), path)
    with pytest.raises(CheckpointMismatchError, match=r'layer1\.2\.'):
        ResNetEncoder(depth=18, pretrained=str(path))
    # b3's file into b0
    path = tmp_path / IMAGENET_FILES['effb3'][0]
    torch.save(fabricate('effb3'), path)
    with pytest.raises(CheckpointMismatchError, match='efficientnet-b3'):
        EfficientNetEncoder(arch='b0', pretrained=str(path))
    # another family's published file
    with pytest.raises(
            CheckpointMismatchError,
            match='lukemelas EfficientNet-PyTorch checkpoint'):
        MobileNetV2Encoder(pretrained=str(path))
    with pytest.raises(
            CheckpointMismatchError, match='no published ImageNet weights'):
        PlainConvEncoder(pretrained=str(path))


def test_grid_switch_sets_pretrained_on_a_cell(tmp_path):
    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    folder = tmp_path / 'imagenet'
    folder.mkdir()
    sd = fabricate('r18')
    torch.save(sd, folder / 'resnet18-f37072fd.pth')
    (folder / 'mobilenet_v2-b0353104.pth').write_bytes(b'')
    opts = imagenet_cfg_options('r18', str(folder))
    assert opts == [
        f'model.backbone.pretrained={folder / "resnet18-f37072fd.pth"}'
    ]
    cfg = Config.fromfile(f'{ROOT}/{leaf_config_path("unet", "r18")}')
    key, value = opts[0].split('=', 1)
    cfg.merge_from_dict({key: value})
    assert cfg.model.backbone.pretrained == value
    model = MODELS.build(cfg.model)
    model.init_weights()  # what the Runner does: must keep the weights
    assert torch.equal(model.backbone.body.layer4[1].conv2.weight,
                       sd['layer4.1.conv2.weight'])
    # explicit mapping, older file name, plain, missing files
    old = tmp_path / 'resnet50-19c8e357.pth'
    old.write_bytes(b'')
    src = parse_imagenet_source([str(folder), f'r50={old}'])
    assert imagenet_weights('r50', src) == str(old)
    assert imagenet_weights('mbv2', src).endswith('mobilenet_v2-b0353104.pth')
    assert imagenet_cfg_options('plain', src) == []
    with pytest.raises(ValueError, match='no ImageNet weights'):
        parse_imagenet_source([f'plain={old}'])
    with pytest.raises(FileNotFoundError, match='efficientnet-b3-5fb5a3c3'):
        imagenet_weights('effb3', src)


def test_benchmark_grid_tool_passes_the_weights_to_each_cell(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'benchmark_grid', f'{ROOT}/tools/benchmark_grid.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for name in ('resnet34-b627a593.pth', 'efficientnet-b0-355c32eb.pth'):
        (tmp_path / name).write_bytes(b'')
    args = tool.parse_args([
        '--cells', 'fpn:r34', 'unet:effb0', 'unet:plain', '--imagenet',
        str(tmp_path)
    ])
    opts = tool.overrides(args, 'none', 'r34')
    assert f'model.backbone.pretrained={tmp_path}/resnet34-b627a593.pth' \
        in opts
    assert not any('pretrained' in o
                   for o in tool.overrides(args, 'none', 'plain'))
    assert tool.cell_name(args, 'fpn', 'r34',
                          'none') == 'fpn_r34_none_imagenet'
    assert tool.cell_name(args, 'unet', 'plain', 'none') == 'unet_plain_none'
    with pytest.raises(SystemExit):  # b3's file is not in the folder
        tool.parse_args(['--cells', 'unet:effb3', '--imagenet', str(tmp_path)])
