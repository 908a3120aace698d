"""tools/model_converters/voxelmorph2mmecho.py against VoxelMorph's own
network.

The fixture (tests/data/voxelmorph/, README.md there) is what VoxelMorph's
code wrote, run without mmecho: ``vxm_dense_2d_64.pt`` is ``model.save()``
of a 2D ``VxmDense`` with paper 003's settings (enc (16, 32, 32, 32), dec
(32, 32, 32, 32, 32, 16, 16), int_steps 7, int_downsize 2) at inshape 64 x
64 with seeded random weights (a field of up to 5.7 px; 6.8 % of the
pixels sample outside the image), and ``parity_io_64.pt`` its inputs,
outputs (``y_source``, ``preint_flow``, ``pos_flow``, the velocity) and the
SpatialTransformer grids ``save`` leaves out.

Converted, mmecho's model built from the config must compute the same
fields and warped image: max |diff| <= ATOL (measured: 0, bit-identical, on
torch 2.13 CPU against VoxelMorph run on torch 2.14.1).
"""
import os.path as osp

import pytest
import torch

from ..conftest import ROOT, load_tool
DATA = osp.join(ROOT, 'tests', 'data', 'voxelmorph')
WEIGHTS = osp.join(DATA, 'vxm_dense_2d_64.pt')
IO = osp.join(DATA, 'parity_io_64.pt')
CONFIG = osp.join(ROOT, 'configs', 'mnms', 'voxelmorph_mnms_vxm-weights.py')
MNMS_CONFIG = osp.join(ROOT, 'configs', 'mnms', 'voxelmorph_mnms.py')
SIZE_OPTS = [
    f'{d}.dataset.size=[64,64]'
    for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
]
#: |mmecho - VoxelMorph| bound for fields (px) and images ([0, 1]): float32
#: positions <= 64 px have an ulp of 7.6e-6; the two grid normalisations
#: (VoxelMorph 2 (p / (s - 1) - 0.5), mmecho 2 p / (s - 1) - 1) may round
#: differently and 7 squarings can add that up: 1e-4 is >10x above it and
#: >1e4x below what a wrong convention gives (border padding: 1.5 px; a
#: channel swap or sign flip: several px)
ATOL = 1e-4


conv = load_tool('tools/model_converters/voxelmorph2mmecho.py')


@pytest.fixture(scope='module')
def io():
    return torch.load(IO, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def saved():
    return torch.load(WEIGHTS, map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The fixture converted by the CLI for the vxm-weights config at the
    fixture's 64 x 64 (as --cfg-options)."""
    out = str(tmp_path_factory.mktemp('vxm') / 'vxm_mmecho.pth')
    assert conv.main([WEIGHTS, out, '--cfg-options', *SIZE_OPTS]) == 0
    return out


def build(config=CONFIG, opts=SIZE_OPTS):
    from mmengine.config import DictAction
    parsed = {}
    for o in opts:
        k, v = o.split('=', 1)
        parsed[k] = DictAction._parse_iterable(v)
    model, _, cfg = conv.build_target(config, parsed)
    return model.eval(), cfg


def diff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


@torch.no_grad()
def test_converted_model_computes_voxelmorphs_fields(io, converted, capsys):
    from mmengine.runner import load_checkpoint

    from mmecho.registration import warp
    model, cfg = build()
    # mmengine's own loader, strict: no missing or unexpected keys
    ckpt = load_checkpoint(model, converted, map_location='cpu', strict=True)
    assert tuple(cfg.test_dataloader.dataset.size) == (64, 64)
    moving, fixed = io['source'], io['target']  # VoxelMorph's (src, trg)
    ref = io['outputs']
    # the check means something: a field of several px, not a translation,
    # sampling outside the image at some pixels, changing the image
    stats = io['meta']['stats']
    assert ref['pos_flow'].abs().max() > 5
    assert ref['pos_flow'].std(dim=(2, 3)).min() > 0.5
    assert stats['fraction_sampled_outside'] > 0.05
    assert stats['integration_max_abs_change'] > 1
    assert (ref['y_source'] - moving).abs().max() > 0.5
    assert torch.equal(ref['y_source'], ref['y_source_registration'])

    inputs = torch.cat([fixed, moving], 1)  # mmecho: channel 0 fixed
    disp = model(inputs, mode='tensor')
    net = model.network
    velocity = net.velocity(fixed, moving)
    net(fixed, moving)
    preint = net.preint_flow
    warped = warp(moving, disp, padding_mode='zeros')
    diffs = dict(
        velocity=diff(velocity, ref['velocity']),
        preint_flow=diff(preint, ref['preint_flow']),
        pos_flow=diff(disp, ref['pos_flow']),
        y_source=diff(warped, ref['y_source']))
    mags = dict(
        velocity=ref['velocity'].abs().max().item(),
        preint_flow=ref['preint_flow'].abs().max().item(),
        pos_flow=ref['pos_flow'].abs().max().item(),
        y_source=ref['y_source'].abs().max().item())
    with capsys.disabled():  # the figures docs/registration.md quotes
        print()
        for k, d in diffs.items():
            print(f'{k:12s} max|mmecho - VoxelMorph| {d:.3g} '
                  f'(max|VoxelMorph| {mags[k]:.3g})')
    assert all(d <= ATOL for d in diffs.values()), diffs
    assert ckpt['meta']['inshape'] == [64, 64]


@torch.no_grad()
def test_conventions_one_by_one(io):
    """mmecho's pieces on VoxelMorph's own intermediate fields: warp with
    VoxelMorph's pos_flow (channel order, sign, align_corners) gives its
    y_source; ResizeTransform(2) of its velocity is its preint_flow;
    VecInt + ResizeTransform(1/2) of that is its pos_flow."""
    from mmecho.models.registrators.voxelmorph_unet import resize_flow
    from mmecho.registration import integrate_velocity, warp
    ref = io['outputs']
    assert diff(
        warp(io['source'], ref['pos_flow'], padding_mode='zeros'),
        ref['y_source']) <= ATOL
    assert diff(resize_flow(ref['velocity'], 0.5), ref['preint_flow']) <= ATOL
    disp = integrate_velocity(ref['preint_flow'], 7, padding_mode='zeros')
    assert diff(resize_flow(disp, 2.0, (64, 64)), ref['pos_flow']) <= ATOL
    # swapped channels or the opposite sign are far off
    assert diff(
        warp(io['source'], ref['pos_flow'][:, [1, 0]], 'bilinear', 'zeros'),
        ref['y_source']) > 0.1
    assert diff(
        warp(io['source'], -ref['pos_flow'], 'bilinear', 'zeros'),
        ref['y_source']) > 0.1


@torch.no_grad()
def test_mmecho_border_padding_differs_near_the_border(io, converted, capsys):
    """The base config (border padding in the squarings and in warp) is
    another function where x + u(x) leaves the image: why the converter
    needs integration_padding='zeros'."""
    from mmengine.runner import load_checkpoint

    from mmecho.registration import warp
    model, _ = build(MNMS_CONFIG)
    load_checkpoint(model, converted, map_location='cpu', strict=True)
    moving, fixed = io['source'], io['target']
    disp = model.network(fixed, moving)
    ref = io['outputs']
    assert diff(disp, ref['pos_flow']) > 0.1
    warped = warp(moving, ref['pos_flow'])  # border padding
    assert diff(warped, ref['y_source']) > 0.1
    ys, xs = torch.meshgrid(torch.arange(64), torch.arange(64), indexing='ij')
    py, px = ys + ref['pos_flow'][:, 0], xs + ref['pos_flow'][:, 1]
    inside = ((py >= 0) & (py <= 63) & (px >= 0) & (px <= 63))[:, None]
    inside_diff = (warped - ref['y_source']).abs()[inside].max().item()
    assert inside_diff <= ATOL
    with capsys.disabled():
        print(f'\nborder padding (voxelmorph_mnms.py): pos_flow max|diff| '
              f'{diff(disp, ref["pos_flow"]):.3g} px; warp: y_source '
              f'max|diff| {diff(warped, ref["y_source"]):.3g}, '
              f'{inside_diff:.3g} where x + u(x) is inside '
              f'({inside.float().mean().item():.1%} of the pixels)')


@torch.no_grad()
def test_transpose_computes_the_field_of_transposed_frames(
        io, saved, tmp_path):
    from mmengine.runner import load_checkpoint
    out = str(tmp_path / 't.pth')
    assert conv.main(
        [WEIGHTS, out, '--transpose', '--cfg-options', *SIZE_OPTS]) == 0
    model, _ = build()
    ckpt = load_checkpoint(model, out, map_location='cpu', strict=True)
    assert ckpt['meta']['transposed']
    t = lambda x: x.transpose(-1, -2)  # noqa: E731
    disp = model.network(t(io['target']), t(io['source']))
    expected = t(io['outputs']['pos_flow'])[:, [1, 0]]
    assert diff(disp, expected) <= ATOL


def test_meta_and_mmecho_loaders(converted, saved):
    from mmecho.engine.checkpoint import load_model_weights, verify_checkpoint
    model, _ = build()
    report = verify_checkpoint(model, converted)
    assert not report['missing'] and not report['unexpected']
    meta = load_model_weights(model, converted)['meta']
    assert meta['source_format'] == 'LoadableModel.save'
    assert meta['voxelmorph_config']['int_steps'] == 7
    assert meta['mmecho_network'] == dict(
        type='VoxelMorphUNet',
        in_channels=1,
        enc_channels=[16, 32, 32, 32],
        dec_channels=[32, 32, 32, 32, 32, 16, 16],
        integration_steps=7,
        int_downsize=2,
        integration_padding='zeros')
    assert meta['frame_size'] == [64, 64] and not meta['unverified']
    assert meta['cfg_options']['test_dataloader.dataset.size'] == [64, 64]
    assert all(v.startswith('absent') for v in meta['buffers'].values())


def test_write_config(tmp_path):
    out, cfg_path = tmp_path / 'o.pth', tmp_path / 'vxm64.py'
    assert conv.main([WEIGHTS, str(out), '--write-config', str(cfg_path)]) == 0
    model, cfg = build(str(cfg_path), [])
    assert tuple(cfg.train_dataloader.dataset.size) == (64, 64)
    assert model.network.integration_padding == 'zeros'
    from mmecho.engine.checkpoint import verify_checkpoint
    report = verify_checkpoint(model, str(out))
    assert not report['missing'] and not report['unexpected']
    # what tools/generate_pseudo_labels.py and mnms_benchmark.py load
    from mmecho.registration.pseudo_labels import load_registration_model
    model, size = load_registration_model(str(cfg_path), str(out))
    assert size == (64, 64)
    assert model.network.integration_padding == 'zeros'


def _plain(saved, io, grids=True):
    sd = dict(saved['model_state'])
    if grids:
        sd.update(io['grids'])
    return sd


@pytest.mark.parametrize('wrap', ['state_dict', 'bare', 'module.'])
def test_plain_state_dicts_with_voxelmorphs_grids(saved, io, tmp_path, wrap,
                                                  capsys):
    """model.state_dict() keeps the two SpatialTransformer grids: checked
    (identity, shapes -> inshape 64, int_downsize 2) and not stored."""
    sd = _plain(saved, io)
    if wrap == 'module.':
        sd = {f'module.{k}': v for k, v in sd.items()}
    src = tmp_path / 'sd.pt'
    torch.save({'state_dict': sd} if wrap == 'state_dict' else sd, src)
    out = tmp_path / 'o.pth'
    assert conv.main([str(src), str(out), '--cfg-options', *SIZE_OPTS]) == 0
    ckpt = torch.load(out, weights_only=True)
    meta = ckpt['meta']
    assert meta['inshape'] == [64, 64] and meta['voxelmorph_config'] is None
    assert all(v.startswith('checked') for v in meta['buffers'].values())
    assert meta['unverified'] == [
        'int_steps (> 0 from the grids; the number, 7, from the config)'
    ]
    assert 'does not tell int_steps' in capsys.readouterr().err
    ref = conv.convert(saved['model_state'])
    assert set(ckpt['state_dict']) == set(ref)
    assert all(torch.equal(ckpt['state_dict'][k], v) for k, v in ref.items())


def test_grids_are_checked(saved, io, tmp_path, capsys):
    sd = _plain(saved, io)
    sd['transformer.grid'] = sd['transformer.grid'] + 1
    torch.save(sd, tmp_path / 'a.pt')
    assert conv.main([str(tmp_path / 'a.pt'), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'transformer.grid is not VoxelMorph' in err and 'a.pt' in err

    with_cfg = dict(saved, model_state=_plain(saved, io))
    with_cfg['model_state']['integrate.transformer.grid'] = torch.zeros(
        1, 2, 16, 16)
    torch.save(with_cfg, tmp_path / 'b.pt')
    assert conv.main([str(tmp_path / 'b.pt'), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert '(1, 2, 16, 16)' in err and '(1, 2, 32, 32)' in err
    assert not (tmp_path / 'o.pth').exists()


def test_state_dict_without_grids_warns(saved, tmp_path, capsys):
    torch.save(saved['model_state'], tmp_path / 'sd.pt')
    assert conv.main([str(tmp_path / 'sd.pt'), str(tmp_path / 'o.pth')]) == 0
    err = capsys.readouterr().err
    assert 'does not tell inshape' in err
    meta = torch.load(tmp_path / 'o.pth', weights_only=True)['meta']
    assert len(meta['unverified']) == 3 and meta['inshape'] is None


def _save_config(saved, tmp_path, name='x.pt', **changes):
    ckpt = dict(saved, config=dict(saved['config'], **changes))
    path = tmp_path / name
    torch.save(ckpt, path)
    return str(path)


@pytest.mark.parametrize('changes,expected', [
    (dict(inshape=(64, 64, 64)), '3D'),
    (dict(use_probs=True), 'use_probs=True'),
    (dict(unet_half_res=True), 'unet_half_res=True'),
    (dict(nb_unet_conv_per_level=2), 'nb_unet_conv_per_level=2'),
    (dict(src_feats=2), 'src_feats=2 != trg_feats=1'),
    (dict(nb_unet_features=[[16, 32, 32], [32, 32, 32, 16]]),
     'the saved config and the weights disagree'),
    (dict(new_arg=1), "arguments VxmDense does not have"),
    (dict(inshape=(72, 72)), 'not a multiple of 16'),
])
def test_unsupported_or_inconsistent_configs(saved, tmp_path, capsys, changes,
                                             expected):
    src = _save_config(saved, tmp_path, **changes)
    assert conv.main([src, str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert expected in err and src in err, err
    assert not (tmp_path / 'o.pth').exists()


def test_settings_that_differ_from_the_config(saved, tmp_path, capsys):
    src = _save_config(saved, tmp_path, int_steps=5)
    assert conv.main([src,
                      str(tmp_path / 'o.pth'), '--config', MNMS_CONFIG]) == 1
    err = capsys.readouterr().err
    for opt in ('model.network.integration_steps=5',
                'model.network.integration_padding=zeros',
                'test_dataloader.dataset.size=[64,64]', '--write-config'):
        assert opt in err, (opt, err)


def _vxm_names(state):
    """mmecho network state -> VoxelMorph's names (a VxmDense-shaped
    state dict of another feature list)."""
    import re
    out = {}
    for k, v in state.items():
        k = re.sub(r'^(encoder|decoder)\.(\d+)\.0\.',
                   r'unet_model.\1.\2.0.main.', k)
        k = re.sub(r'^remaining\.(\d+)\.0\.', r'unet_model.remaining.\1.main.',
                   k)
        out[k] = v
    return out


def test_another_feature_list_names_the_difference(tmp_path, capsys):
    from mmecho.models import VoxelMorphUNet
    net = VoxelMorphUNet(
        enc_channels=(8, 16, 16, 16), dec_channels=(16, 16, 16, 16, 16, 8, 8))
    sd = _vxm_names(net.state_dict())
    assert 'unet_model.encoder.0.0.main.weight' in sd
    assert 'unet_model.remaining.2.main.bias' in sd
    torch.save(sd, tmp_path / 'small.pt')
    assert conv.main([str(tmp_path / 'small.pt'),
                      str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'model.network.enc_channels: VoxelMorph [8, 16, 16, 16] vs ' \
        'config [16, 32, 32, 32]' in err and 'small.pt' in err


def test_wrong_models_name_the_keys(saved, io, tmp_path, capsys):
    # a 3D VxmDense state dict
    sd3 = {
        k: (v[...,
              None].expand(*v.shape, 3).contiguous() if v.dim() == 4 else v)
        for k, v in saved['model_state'].items()
    }
    torch.save(sd3, tmp_path / 'vxm3d.pt')
    assert conv.main([str(tmp_path / 'vxm3d.pt'),
                      str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert '3D VxmDense' in err and 'vxm3d.pt' in err and '2D' in err

    # not VoxelMorph at all (a ResNet), and an already converted file
    torch.save(
        {
            'conv1.weight': torch.zeros(64, 3, 7, 7),
            'fc.weight': torch.zeros(10, 2048)
        }, tmp_path / 'r50.pt')
    assert conv.main([str(tmp_path / 'r50.pt'), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'not a VoxelMorph VxmDense state dict' in err
    assert 'conv1.weight' in err and 'r50.pt' in err

    # an unknown extra tensor, a missing one
    extra = dict(saved['model_state'],
                 **{'unet_model.extra.weight': torch.ones(1)})
    torch.save(extra, tmp_path / 'extra.pt')
    assert conv.main([str(tmp_path / 'extra.pt'),
                      str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'unet_model.extra.weight' in err and 'extra.pt' in err
    missing = dict(saved['model_state'])
    del missing['flow.bias']
    torch.save(missing, tmp_path / 'missing.pt')
    assert conv.main([str(tmp_path / 'missing.pt'),
                      str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'network.flow.bias' in err and 'missing.pt' in err
    assert not (tmp_path / 'o.pth').exists()


class VxmDense(torch.nn.Module):
    """Stands for a whole pickled model (torch.save(model))."""

    def __init__(self):
        super().__init__()
        self.flow = torch.nn.Conv2d(16, 2, 3)


class _RunsCode:
    """Unpickling this would call ``open(marker, 'w')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_pickled_models_are_refused(tmp_path, capsys):
    torch.save(VxmDense(), tmp_path / 'model.pt')
    assert conv.main([str(tmp_path / 'model.pt'),
                      str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'weights_only=True' in err and 'model.save(path)' in err
    assert 'VxmDense' in err and 'model.pt' in err

    marker = tmp_path / 'ran'
    torch.save(
        {
            'model_state': {
                'flow.weight': torch.ones(1)
            },
            'config': _RunsCode(str(marker))
        }, tmp_path / 'evil.pt')
    assert conv.main([str(tmp_path / 'evil.pt'), str(tmp_path / 'o.pth')]) == 1
    assert 'nothing executed' in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / 'o.pth').exists()

    (tmp_path / 'notes.txt').write_text('# not a checkpoint\n')
    assert conv.main([str(tmp_path / 'notes.txt'),
                      str(tmp_path / 'o.pth')]) == 1
    assert 'not a PyTorch file' in capsys.readouterr().err


def test_voxelmorph_feature_rules():
    """Unet's feature lists: the default, [[enc], [dec]], or an integer
    with nb_unet_levels / unet_feat_mult (np.round, as VoxelMorph)."""
    f = conv.voxelmorph_features
    assert f({}) == ([16, 32, 32, 32], [32, 32, 32, 32, 32, 16, 16])
    assert f(dict(nb_unet_features=16, nb_unet_levels=5,
                  unet_feat_mult=2)) == ([16, 32, 64,
                                          128], [256, 128, 64, 32, 16])
    with pytest.raises(ValueError, match='needs nb_unet_levels'):
        f(dict(nb_unet_features=16))
    with pytest.raises(ValueError, match='only used with an integer'):
        f(dict(nb_unet_features=[[16], [16, 16]], nb_unet_levels=2))


def test_numpy_config_and_bidir(saved, tmp_path):
    """numpy values in the saved config load (weights_only with numpy's
    globals, as mmecho's loader); bidir models convert with a note."""
    import numpy as np
    src = _save_config(
        saved,
        tmp_path,
        inshape=np.array([64, 64]),
        int_steps=np.int64(7),
        bidir=True)
    out = tmp_path / 'o.pth'
    assert conv.main([src, str(out), '--cfg-options', *SIZE_OPTS]) == 0
    meta = torch.load(out, weights_only=True)['meta']
    assert meta['voxelmorph_config']['inshape'] == [64, 64]
    assert any('bidir=True' in n for n in meta['notes'])


def test_without_integration_for_the_camus_config(saved, tmp_path):
    """int_steps=0 (the displacement directly): fits
    configs/registration/voxelmorph_camus.py (integration_steps=0; its
    padding and int_downsize are then unused, in both)."""
    from mmecho.engine.checkpoint import verify_checkpoint
    src = _save_config(saved, tmp_path, int_steps=0)
    out = tmp_path / 'o.pth'
    camus = osp.join(ROOT, 'configs', 'registration', 'voxelmorph_camus.py')
    assert conv.main(
        [src, str(out), '--config', camus, '--cfg-options', *SIZE_OPTS]) == 0
    model, _ = build(camus)
    assert model.network.integration_steps == 0
    report = verify_checkpoint(model, str(out))
    assert not report['missing'] and not report['unexpected']
