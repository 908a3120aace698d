"""tools/model_converters/ramem2mmecho.py against RAMEM's own network.

The fixture (tests/data/ramem/, README.md there) holds a state dict of
RAMEM's ``Yolact`` built from the authors' source (UPANet V2 of width 8,
32-channel FPN/heads, 160x160 input, random float16 weights), the input image
and RAMEM's raw outputs per level. Converted, mmecho's network with the
ramem-weights config must give the same outputs: max |diff| of every output
(per level) at most 1e-4 x max |RAMEM's output| (measured: about 1e-7 x).
"""
import os.path as osp

import pytest
import torch

from ..conftest import ROOT, load_tool
FIXTURE = osp.join(ROOT, 'tests', 'data', 'ramem', 'parity_upanet8_160.pt')
CONFIG = osp.join(ROOT, 'configs', 'meis',
                  'mayolact_upanet80_meis_ramem-weights.py')
BASE_CONFIG = osp.join(ROOT, 'configs', 'meis', 'mayolact_upanet80_meis.py')
#: max |mmecho - RAMEM| <= RTOL x max |RAMEM| per output and level
RTOL = 1e-4


conv = load_tool('tools/model_converters/ramem2mmecho.py')


@pytest.fixture(scope='module')
def fixture():
    return torch.load(FIXTURE, map_location='cpu', weights_only=True)


def shrink_options(meta) -> dict:
    w, c = meta['width'], meta['neck_channels']
    return {
        'model.backbone.width': w,
        'model.neck.in_channels': [4 * w, 8 * w, 16 * w],
        'model.neck.out_channels': c,
        'model.bbox_head.in_channels': c,
        'model.bbox_head.feat_channels': c,
        'model.mask_head.in_channels': c,
        'model.mask_head.proto_channels': (c, c, c, None, c, 32),
    }


def ramem_state(fixture):
    return {
        k: v.float() if v.is_floating_point() else v
        for k, v in fixture['state_dict'].items()
    }


def build(fixture, config=CONFIG):
    model, target, _ = conv.build_target_state(
        config, shrink_options(fixture['meta']))
    return model.eval(), target


@torch.no_grad()
def mmecho_outputs(model, image_bgr):
    return conv.mmecho_outputs_in_ramem_layout(model, image_bgr)


def assert_parity(out, ref):
    worst = []
    for name in ('fpn', 'conf', 'box', 'coef', 'proto', 'seg'):
        a, b = out[name], ref[name]
        pairs = zip(a, b) if isinstance(b, list) else [(a, b)]
        for lvl, (x, y) in enumerate(pairs):
            assert x.shape == y.shape, (name, lvl, x.shape, y.shape)
            diff = (x - y).abs().max().item()
            mag = y.abs().max().item()
            assert mag > 0, (name, lvl)
            worst.append((diff / mag, name, lvl, diff))
            assert diff <= RTOL * mag, (
                f'{name} level {lvl}: max|diff| {diff:.3g} > {RTOL} x '
                f'{mag:.3g}')
    return worst


def test_converted_network_computes_ramems_outputs(fixture):
    model, target = build(fixture)
    sd = conv.convert_for(ramem_state(fixture), target, 4, FIXTURE)
    model.load_state_dict(sd, strict=True)
    out = mmecho_outputs(model, fixture['image_bgr'])
    # same normalisation: BGR - mean, / std, then RGB (RAMEM's val_aug)
    assert (out['input'] - fixture['input']).abs().max() <= 1e-5
    ref = fixture['outputs']
    # the check means something: rectified prototypes and tanh coefficients
    # are neither all zero nor saturated
    assert 0.1 < (ref['proto'] > 0).float().mean() < 0.9
    assert ref['coef'][0].abs().max() < 0.99
    for rel, name, lvl, diff in assert_parity(out, ref):  # pytest -s shows it
        print(f'{name:5s} level {lvl}: max|diff| {diff:.3g} '
              f'({rel:.3g} x max|RAMEM|)')


def test_base_config_neck_is_not_ramems(fixture):
    """mmdet's FPN (no ReLU after the output convs) computes another
    function with the same tensors: the reason for RAMEMFPN."""
    model, target = build(fixture, BASE_CONFIG)
    model.load_state_dict(conv.convert_for(ramem_state(fixture), target, 4))
    out = mmecho_outputs(model, fixture['image_bgr'])
    ref = fixture['outputs']
    assert (out['fpn'][0] - ref['fpn'][0]).abs().max() > 0.1 * ref['fpn'][
        0].abs().max()


def test_ramem_fpn_activations():
    """RAMEMFPN: mmdet FPN's tensors; ReLU after the output convs only."""
    from mmdet.models.necks import FPN

    from mmecho.models.necks import RAMEMFPN
    kw = dict(in_channels=[8, 16, 32], out_channels=8, num_outs=5,
              add_extra_convs='on_output', relu_before_extra_convs=True,
              upsample_cfg=dict(mode='bilinear'))
    torch.manual_seed(0)
    ours, mmdet_fpn = RAMEMFPN(**kw), FPN(**kw)
    sd = ours.state_dict()
    assert {k: v.shape for k, v in sd.items()} == {
        k: v.shape for k, v in mmdet_fpn.state_dict().items()}
    mmdet_fpn.load_state_dict(sd)
    x = [torch.randn(1, c, s, s) for c, s in ((8, 20), (16, 10), (32, 5))]
    with torch.no_grad():
        a, b = ours(x), mmdet_fpn(x)
        # laterals without activation: P5 = relu(mmdet's P5)
        assert torch.equal(a[2], torch.relu(b[2]))
        lat = ours.lateral_convs[2](x[2])
        assert (lat < 0).any()
        p6 = torch.relu(ours.fpn_convs[3].conv(a[2]))
        assert torch.allclose(a[3], p6)
        assert torch.allclose(
            a[4], torch.relu(ours.fpn_convs[4].conv(a[3])))
    assert all(not c.with_activation for c in ours.lateral_convs)
    assert all(c.with_activation for c in ours.fpn_convs)


def _priors(config):
    from mmengine.config import Config

    from mmecho.registry import TASK_UTILS
    gen = TASK_UTILS.build(
        Config.fromfile(config).model.bbox_head.anchor_generator)
    sizes = [(68, 68), (34, 34), (17, 17), (9, 9), (5, 5)]  # 544x544
    return torch.cat(gen.grid_priors(sizes, device='cpu'))


def test_priors_are_ramems_at_544(fixture):
    """RAMEM's net.anchors (relative cx, cy, w, h of upanet80_meis at 544,
    level by level, row-major) == the ramem-weights config's priors."""
    a = fixture['anchors_544'].double() * 544
    ramem = torch.cat([a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2], 1)
    mine = _priors(CONFIG).double()
    assert mine.shape == ramem.shape == (6175, 4)
    assert (mine - ramem).abs().max() < 1e-3
    # the base config's P6/P7 centres are up to 86 px off RAMEM's
    base = _priors(BASE_CONFIG).double()
    off = (base - ramem).abs().max(1).values
    assert off[:4624 + 1156 + 289].max() < 1e-3  # P3-P5 agree
    assert 80 < off.max() < 90


def test_wrong_model_state_dicts_name_the_keys(fixture):
    from mmdet.models.backbones import ResNet
    _, target = build(fixture)
    good = ramem_state(fixture)
    with pytest.raises(KeyError, match=r'conv1\.weight.*') as e:
        conv.convert_for(ResNet(50).state_dict(), target, 4, 'r50.pth')
    assert 'r50.pth' in str(e.value) and 'layer1.0.conv1.weight' in str(
        e.value)

    missing = dict(good)
    del missing['fpn.lat_layers.0.bias']
    with pytest.raises(KeyError, match=r'neck\.lateral_convs\.0\.conv\.bias'):
        conv.convert_for(missing, target, 4, 'x.pth')

    extra = dict(good)
    extra['backbone.layer9.0.cnn.0.conv.weight'] = torch.ones(1)
    with pytest.raises(KeyError, match=r'backbone\.layer9\.0'):
        conv.convert_for(extra, target, 4, 'x.pth')

    reshaped = dict(good)
    reshaped['fpn.lat_layers.1.weight'] = torch.zeros(32, 63, 1, 1)
    with pytest.raises(ValueError) as e:
        conv.convert_for(reshaped, target, 4, 'x.pth')
    msg = str(e.value)
    assert ('fpn.lat_layers.1.weight -> neck.lateral_convs.1.conv.weight: '
            '(32, 63, 1, 1) vs (32, 64, 1, 1)') in msg and 'x.pth' in msg

    # a UPANet80 checkpoint for the small model: every backbone shape differs
    _, wide, _ = conv.build_target_state(CONFIG, {
        **shrink_options(fixture['meta']), 'model.backbone.width': 16,
        'model.neck.in_channels': [64, 128, 256]
    })
    with pytest.raises(ValueError, match='shape mismatches'):
        conv.convert_for(good, wide, 4, 'x.pth')


@pytest.mark.parametrize('wrap', ['bare', 'state_dict', 'model', 'module.'])
def test_cli_writes_a_checkpoint_mmecho_loads(fixture, tmp_path, wrap):
    from mmecho.engine.checkpoint import load_model_weights, verify_checkpoint
    sd = ramem_state(fixture)
    if wrap == 'module.':
        saved = {f'module.{k}': v for k, v in sd.items()}
    elif wrap == 'bare':
        saved = sd
    else:
        saved = {wrap: sd, 'epoch': 3}
    src, dst = tmp_path / 'best_x_upanet8_meis_1.pth', tmp_path / 'out.pth'
    torch.save(saved, src)
    opts = [
        f'{k}={list(v) if isinstance(v, tuple) else v}'.replace(' ', '')
        for k, v in shrink_options(fixture['meta']).items()
    ]
    assert conv.main([str(src), str(dst), '--cfg-options', *opts]) == 0
    model, _ = build(fixture)
    report = verify_checkpoint(model, str(dst))
    assert not report['missing'] and not report['unexpected']
    ckpt = load_model_weights(model, str(dst))
    assert ckpt['meta']['dataset_meta']['classes'] == [
        'IVS', 'LVPW', 'LA', 'AoR'
    ]
    assert_parity(mmecho_outputs(model.eval(), fixture['image_bgr']),
                  fixture['outputs'])


class _RunsCode:
    """Unpickling this would call ``open(marker, 'w')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_cli_refuses_a_pickle_that_needs_code(tmp_path, capsys):
    marker = tmp_path / 'ran'
    src = tmp_path / 'evil.pth'
    with open(src, 'wb') as f:
        torch.save({'state_dict': {'x': torch.ones(1)},
                    'obj': _RunsCode(str(marker))}, f)
    assert conv.main([str(src), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert 'weights_only=True' in err and str(src) in err
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


def test_cli_wrong_model_exits_with_the_keys(tmp_path, capsys):
    src = tmp_path / 'r50.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7),
                'fc.weight': torch.zeros(10, 2048)}, src)
    assert conv.main([str(src), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert 'conv1.weight' in err and 'fc.weight' in err and str(src) in err
