"""tools/model_converters/smp2mmecho.py against smp 0.6.0's own networks.

The fixtures (tests/data/smp/, README.md there) hold state dicts of smp
networks of the grid's classes (and of the thesis's appendix U-Net), built
with smp 0.6.0 in another environment, with random float16 weights,
non-trivial BatchNorm statistics, an input and smp's eval-mode logits.
Converted, the mmecho model of the cell's leaf config (plus the fixture's
``cfg_options`` for the reduced networks) must compute the same logits:
max |mmecho - smp| <= 1e-4 x max |smp| (the weights are exact in both, the
computation is float32: what could be left is summation order, about
1e-7 x; measured: 0 for all ten, see docs/smp_weights.md).
"""
import glob
import json
import os
import os.path as osp

import pytest
import torch

from ..conftest import ROOT, load_tool
FIXTURES = sorted(glob.glob(osp.join(ROOT, 'tests', 'data', 'smp', '*.pt')))
RTOL = 1e-4


parity_tool = load_tool('tools/model_converters/smp_parity.py')
conv = parity_tool.conv

_cache = {}


def fixture(name):
    if name not in _cache:
        _cache[name] = parity_tool.load_fixture(
            osp.join(ROOT, 'tests', 'data', 'smp', f'{name}.pt'))
    return _cache[name]


def test_fixtures_present():
    names = {osp.basename(p)[:-3] for p in FIXTURES}
    # the cells the issue names (reduced where a default cell is 5-300 MB),
    # plus the other three decoders
    assert {'unet_plain', 'pspnet_mbv2', 'unet_r34_d3', 'manet_r50_d2',
            'deeplabv3plus_effb3_d3', 'pan_effb0_d4', 'fpn_mbv2_d4',
            'linknet_mbv2_d3', 'unetplusplus_mbv2_d3',
            'deeplabv3_effb0_d4os8'} <= names
    for p in FIXTURES:
        assert osp.getsize(p) < 6e6, p


@pytest.mark.parametrize(
    'path', FIXTURES, ids=[osp.basename(p)[:-3] for p in FIXTURES])
def test_converted_network_computes_smps_logits(path):
    fix = parity_tool.load_fixture(path)
    assert fix['smp_version'] in ('0.6.0', None) and fix['dtype'] == 'float16'
    # float16 weights, and the check means something: not a constant map
    assert all(v.dtype in (torch.float16, torch.int64)
               for v in fix['state_dict'].values())
    assert fix['output'].std() > 0.05 * fix['output'].abs().max()
    row = parity_tool.parity(fix, path)
    # exactly the tensors smp never runs are dropped
    assert set(row['dropped_unused']) == set(fix['unused'])
    print(f'{row["name"]}: max|diff| {row["max_abs_diff"]:.3g}, max|smp| '
          f'{row["max_abs_smp"]:.3g} ({row["rel"]:.2g} x)')
    assert row['rel'] <= RTOL


def test_the_comparison_sees_a_wrong_mapping():
    """Two same-shaped tensors swapped (MA-Net's SE gates of the skip and of
    the deeper input) give other logits: the parity test would catch a
    mapping that only fits the shapes."""
    fix = dict(fixture('manet_r50_d2'))
    sd = dict(fix['state_dict'])
    for p in ('1.weight', '1.bias', '3.weight', '3.bias'):
        a, b = f'decoder.blocks.0.SE_hl.{p}', f'decoder.blocks.0.SE_ll.{p}'
        sd[a], sd[b] = sd[b], sd[a]
    fix['state_dict'] = sd
    row = parity_tool.parity(fix)
    assert row['rel'] > 1e-3


def test_detects_the_cell_from_the_keys():
    for p in FIXTURES:
        fix = parity_tool.load_fixture(p)
        arch, enc, _ = conv.detect_cell(fix['state_dict'])
        assert f'{arch}:{enc}' == fix['cell'], p
    # no decoder: ask for the cell
    enc_only = {k: v for k, v in fixture('pspnet_mbv2')['state_dict'].items()
                if k.startswith('encoder.')}
    with pytest.raises(conv.ConversionError, match='--arch and --encoder'):
        conv.resolve_cell(enc_only, src='enc.pth')
    # a classification ResNet (torchvision's names, no 'encoder.')
    from mmseg.models.backbones import ResNet
    with pytest.raises(conv.ConversionError) as e:
        conv.resolve_cell(ResNet(18).state_dict(), src='r18.pth')
    assert 'cannot tell the grid cell' in str(e.value) and 'r18.pth' in str(
        e.value) and 'conv1.weight' in str(e.value)


def test_wrong_model_names_keys_and_expected_cell(tmp_path, capsys):
    """A U-Net x ResNet34 state dict given as FPN fails, naming the
    unmapped keys, the cell it expected and the cell it looks like."""
    sd = fixture('unet_r34_d3')['state_dict']
    arch, enc = 'fpn', 'r34'
    model, _ = conv.build_model(conv.config_for(arch, enc, 'camus'))
    with pytest.raises(conv.ConversionError) as e:
        conv.convert(sd, arch, enc, model, 'unet_r34.pth')
    msg = str(e.value)
    assert 'smp.FPN x resnet34 (fpn:r34)' in msg
    assert 'decoder.blocks.0.conv1.0.weight' in msg and 'in all)' in msg
    assert 'look like smp.Unet x resnet34 (unet:r34)' in msg
    assert 'unet_r34.pth' in msg

    # the CLI: exit status 1, the message, no output file
    src, dst = tmp_path / 'unet_r34.pth', tmp_path / 'out.pth'
    torch.save(sd, src)
    assert conv.main([str(src), str(dst), '--arch', 'fpn']) == 1
    err = capsys.readouterr().err
    assert 'fpn:r34' in err and 'decoder.blocks.0.conv1.0.weight' in err
    assert not dst.exists()


def test_missing_extra_and_misshapen_tensors():
    fix = fixture('unet_r34_d3')
    arch, enc = fix['cell'].split(':')
    model, _ = conv.build_model(
        conv.config_for(arch, enc, 'camus'), fix['cfg_options'])
    good = dict(fix['state_dict'])

    missing = dict(good)
    del missing['decoder.blocks.1.conv2.1.running_var']
    with pytest.raises(conv.ConversionError) as e:
        conv.convert(missing, arch, enc, model, 'x.pth')
    assert 'decode_head.blocks.1.conv2.bn.running_var' in str(e.value)

    extra = dict(good)
    extra['decoder.blocks.7.conv1.0.weight'] = torch.zeros(1)
    with pytest.raises(conv.ConversionError,
                       match=r'decoder\.blocks\.7\.conv1\.0\.weight -> '):
        conv.convert(extra, arch, enc, model, 'x.pth')

    # another decoder width (smp's decoder_channels=(64, 16, 8)): the shapes
    # differ, named source -> target with both shapes
    wide, _ = conv.build_model(
        conv.config_for(arch, enc, 'camus'),
        dict(fix['cfg_options'],
             **{'model.decode_head.decoder_channels': (64, 16, 8)}))
    with pytest.raises(conv.ConversionError) as e:
        conv.convert(good, arch, enc, wide, 'x.pth')
    assert 'shape mismatches' in str(e.value)
    assert ('decoder.blocks.0.conv1.0.weight -> '
            'decode_head.blocks.0.conv1.conv.weight: (32, 192, 3, 3) vs '
            '(64, 192, 3, 3)') in str(e.value)
    # the default leaf config (five decoder blocks): blocks 3 and 4 missing
    full, _ = conv.build_model(conv.config_for(arch, enc, 'camus'))
    with pytest.raises(conv.ConversionError,
                       match=r'not in the checkpoint: decode_head\.blocks'):
        conv.convert(good, arch, enc, full, 'x.pth')

    aux = dict(good)
    aux['classification_head.3.weight'] = torch.zeros(4, 128)
    with pytest.raises(conv.ConversionError, match='auxiliary classifier'):
        conv.convert(aux, arch, enc, model, 'x.pth')


def _mmengine_loads(model, path):
    from mmengine.runner import load_checkpoint
    ckpt = load_checkpoint(model, str(path), map_location='cpu', strict=True)
    own = set(model.state_dict())
    assert set(ckpt['state_dict']) == own  # nothing missing or unexpected
    return ckpt


@pytest.mark.parametrize('name', ['unet_plain', 'pspnet_mbv2'])
def test_cli_detects_and_writes_a_checkpoint_mmengine_loads(
        name, tmp_path, capsys):
    fix = fixture(name)
    src, dst = tmp_path / f'{name}.pth', tmp_path / 'out' / 'conv.pth'
    torch.save(fix['state_dict'], src)
    assert conv.main([str(src), str(dst)]) == 0  # no --arch / --encoder
    assert 'wrote' in capsys.readouterr().out
    # atomic: only the final file is left
    assert os.listdir(dst.parent) == ['conv.pth']
    arch, enc = fix['cell'].split(':')
    model, _ = conv.build_model(conv.config_for(arch, enc, 'camus'))
    # what tools/test.py checks before its Runner loads the weights
    from mmecho.engine.checkpoint import verify_checkpoint
    report = verify_checkpoint(model, str(dst))
    assert not report['missing'] and not report['unexpected']
    ckpt = _mmengine_loads(model, dst)
    meta = ckpt['meta']
    assert meta['cell'] == fix['cell'] and meta['protocol'] == 'camus'
    assert meta['num_classes'] == 4 and meta['config'] == osp.relpath(
        conv.config_for(arch, enc, 'camus'), ROOT)
    assert meta['dropped_unused'] == len(fix['unused'])
    assert all(v.dtype != torch.float16 for v in ckpt['state_dict'].values())
    with torch.no_grad():
        out = model.eval()._forward(fix['input'])
    assert (out - fix['output']).abs().max() <= RTOL * fix['output'].abs(
    ).max()


def _write_safetensors(path, sd):
    """A minimal safetensors writer (the format the converter reads)."""
    names = {torch.float16: 'F16', torch.float32: 'F32', torch.int64: 'I64'}
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for k, v in sd.items():
        b = v.contiguous().numpy().tobytes()
        header[k] = dict(dtype=names[v.dtype], shape=list(v.shape),
                         data_offsets=[offset, offset + len(b)])
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(len(h).to_bytes(8, 'little') + h + b''.join(blobs))


@pytest.mark.parametrize('wrap', [
    'state_dict', 'model_state_dict', 'model', 'module.', 'save_pretrained',
    'safetensors'
])
def test_input_layouts(wrap, tmp_path):
    fix = fixture('pspnet_mbv2')
    sd = {k: v.contiguous() for k, v in fix['state_dict'].items()}
    if wrap == 'save_pretrained':
        src = tmp_path / 'smp_dir'
        src.mkdir()
        _write_safetensors(src / 'model.safetensors', sd)
        (src / 'config.json').write_text(json.dumps({
            '_model_class': 'PSPNet', 'encoder_name': 'mobilenet_v2',
            'encoder_depth': 3, 'encoder_weights': 'imagenet',
            'in_channels': 3, 'classes': 4, 'psp_out_channels': 512,
            'psp_dropout': 0.2, 'upsampling': 8, 'activation': None,
            'aux_params': None, 'decoder_use_norm': 'batchnorm'}))
    elif wrap == 'safetensors':
        src = tmp_path / 'w.safetensors'
        _write_safetensors(src, sd)
    else:
        src = tmp_path / 'w.pth'
        saved = ({f'module.{k}': v for k, v in sd.items()}
                 if wrap == 'module.' else {wrap: sd, 'epoch': 7})
        torch.save(saved, src)
    loaded, config = conv.load_source(str(src))
    assert set(loaded) == set(sd) and all(
        torch.equal(loaded[k], sd[k]) for k in sd)
    assert (config is not None) == (wrap == 'save_pretrained')
    if wrap == 'save_pretrained':
        cell = conv.resolve_cell(loaded, smp_config=config)
        assert cell == ('pspnet', 'mbv2')
        assert conv.check_smp_config(config, None) == {}
        dst = tmp_path / 'out.pth'
        assert conv.main([str(src), str(dst)]) == 0
        assert torch.load(dst, weights_only=True)['meta']['smp_config'][
            '_model_class'] == 'PSPNet'


def test_save_pretrained_config_is_checked(tmp_path):
    config = {'_model_class': 'DeepLabV3Plus', 'encoder_name': 'resnet34',
              'encoder_output_stride': 8, 'in_channels': 3, 'classes': 4}
    with pytest.raises(conv.ConversionError,
                       match=r'encoder_output_stride=8 \(default 16\)'):
        conv.check_smp_config(config, None, 'dir')
    assert conv.check_smp_config(
        config, {'model.backbone.output_stride': 8}) == {
            'encoder_output_stride': 8}
    with pytest.raises(conv.ConversionError, match='contradicts'):
        conv.resolve_cell({}, arch='unet', smp_config=config, src='dir')
    with pytest.raises(conv.ConversionError, match='not a grid cell'):
        conv.resolve_cell({}, smp_config=dict(config,
                                              encoder_name='resnet152'))


class _RunsCode:
    """Unpickling this would call ``open(marker, 'w')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_pickled_model_and_code_are_refused(tmp_path, capsys):
    whole = tmp_path / 'whole.pth'
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), whole)
    assert conv.main([str(whole), str(tmp_path / 'a.pth')]) == 1
    err = capsys.readouterr().err
    assert 'pickled model object' in err and 'model.state_dict()' in err
    assert 'nothing was executed' in err and str(whole) in err

    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'x': torch.ones(1)},
                'obj': _RunsCode(str(marker))}, evil)
    assert conv.main([str(evil), str(tmp_path / 'b.pth')]) == 1
    err = capsys.readouterr().err
    assert 'weights_only=True' in err and 'nothing executed' in err
    assert not marker.exists()

    junk = tmp_path / 'junk.pth'
    junk.write_bytes(bytes(range(7, 250)) * 4)
    assert conv.main([str(junk), str(tmp_path / 'c.pth')]) == 1
    assert 'not a PyTorch checkpoint or safetensors file' in \
        capsys.readouterr().err
    for name in ('a.pth', 'b.pth', 'c.pth'):
        assert not (tmp_path / name).exists()


def test_thesis_protocol_and_class_count(tmp_path, capsys):
    """The head's channels choose (or are checked against) the protocol:
    the thesis's binary LV head has one channel."""
    sd = dict(fixture('unet_plain')['state_dict'])
    sd['out.weight'] = sd['out.weight'][:1].clone()
    sd['out.bias'] = sd['out.bias'][:1].clone()
    src, dst = tmp_path / 'lv.pth', tmp_path / 'lv_mmecho.pth'
    torch.save(sd, src)
    assert conv.main([str(src), str(dst), '--protocol', 'camus']) == 1
    assert 'use --protocol thesis' in capsys.readouterr().err
    assert conv.main([str(src), str(dst)]) == 0
    cfg = conv.config_for('unet', 'plain', 'thesis')
    assert 'camus_thesis' in cfg
    model, _ = conv.build_model(cfg)
    meta = _mmengine_loads(model, dst)['meta']
    assert meta['protocol'] == 'thesis' and meta['num_classes'] == 1

    sd['out.weight'] = sd['out.weight'].repeat(3, 1, 1, 1)
    sd['out.bias'] = sd['out.bias'].repeat(3)
    torch.save(sd, src)
    assert conv.main([str(src), str(dst)]) == 1
    assert 'has 3 output channels' in capsys.readouterr().err
