# Copyright (c) mmecho contributors. All rights reserved.
"""Convert a segmentation_models_pytorch (smp) 0.6.0 checkpoint, or one of
the thesis's own U-Net, into an mmecho checkpoint of a CAMUS-grid cell.

    python tools/model_converters/smp2mmecho.py IN OUT.pth \
        [--arch unet --encoder r34] [--protocol camus|thesis]
        [--config CONFIG] [--cfg-options KEY=VALUE ...]

IN is ``torch.save(model.state_dict())`` of an ``smp.<Arch>(encoder_name=
...)`` (or of the thesis's appendix ``UNet``), a dict holding it under
``state_dict`` / ``model_state_dict`` / ``model``, a folder written by smp's
``model.save_pretrained(DIR)`` (``model.safetensors`` + ``config.json``), or
a ``.safetensors`` file. A ``module.`` / ``model.`` / ``_orig_mod.`` prefix
on every key (DataParallel, Lightning, torch.compile) is removed. Pickles are
read with ``torch.load(weights_only=True)`` only: a pickled whole model
(``torch.save(model)``) is refused with the advice to save
``model.state_dict()``; nothing in the file is executed.

Cells: the nine smp architectures (``--arch``: unet, unetplusplus, manet,
linknet, fpn, pspnet, pan, deeplabv3, deeplabv3plus = smp's Unet,
UnetPlusPlus, MAnet, Linknet, FPN, PSPNet, PAN, DeepLabV3, DeepLabV3Plus) x
the ten encoders (``--encoder``: r18, r34, r50, r101, mbv2, effb0, effb1,
effb3, effb5, effb7 = resnet18/34/50/101, mobilenet_v2,
efficientnet-b0/b1/b3/b5/b7) with smp's default arguments, and the thesis's
U-Net (``unet`` + ``plain``, paper 002's appendix ``UNet``, SIZE = 32; its
attribute names ``down1..4``, ``up3..1``, ``out`` are the source keys).
Without ``--arch`` / ``--encoder`` the cell is read from the keys and
shapes (the decoder's module names give the architecture; the encoder's
block counts and widths its variant); a state dict that matches no cell is
an error asking for them.

Target: the model of ``mmecho.grid.leaf_config_path(arch, encoder,
protocol=...)`` (``configs/camus/...`` for the 4-class CAMUS protocol,
``configs/camus_thesis/...`` for the thesis's binary LV protocol), or of
``--config``, with ``--cfg-options`` applied (for smp networks built with
non-default arguments, e.g. ``decoder_channels``; pass the same options to
``tools/test.py``).

Classes: the number of output channels of the checkpoint's head
(``segmentation_head.0`` / ``out``) must equal the config's
(``decode_head.out_channels``): 4 for ``--protocol camus``, 1 for
``--protocol thesis`` (one sigmoid channel). Without ``--protocol`` it is
chosen from the head (4 -> camus, 1 -> thesis); any other count is an
error (the grid's configs have no such head). The written ``meta`` records
``num_classes`` (the head's channels) and the protocol.

Strict: every source tensor is mapped to one tensor of the model, or is one
smp builds but never runs for that network (dropped, counted in
``meta['dropped_unused']``): EfficientNet's ``_conv_head`` / ``_bn1``
(smp's encoder stops before them), and the stages deeper than the encoder
depth (PSPNet's default ``encoder_depth=3``: ResNet ``layer3``/``layer4``,
MobileNetV2 ``features.7-18``, EfficientNet's blocks after the stride-8
level). Every tensor of the model must be filled with the right shape. A
source key that no rule maps, a missing target tensor or a shape mismatch is
an error naming the keys (the first few and the count) and the cell and
config it expected.

Output: ``{'state_dict': ..., 'meta': ...}`` (written atomically), loadable
by ``tools/test.py CONFIG OUT.pth`` and mmengine's ``load_checkpoint``.
Details, the key mapping and the parity figures: ``docs/smp_weights.md``.
"""
import argparse
import json
import os
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMP_VERSION = '0.6.0'

#: mmecho architecture key -> smp class
SMP_ARCHS = OrderedDict([
    ('unet', 'Unet'),
    ('unetplusplus', 'UnetPlusPlus'),
    ('manet', 'MAnet'),
    ('linknet', 'Linknet'),
    ('fpn', 'FPN'),
    ('pspnet', 'PSPNet'),
    ('pan', 'PAN'),
    ('deeplabv3', 'DeepLabV3'),
    ('deeplabv3plus', 'DeepLabV3Plus'),
])
#: mmecho encoder key -> smp encoder name
SMP_ENCODERS = OrderedDict([
    ('r18', 'resnet18'),
    ('r34', 'resnet34'),
    ('r50', 'resnet50'),
    ('r101', 'resnet101'),
    ('mbv2', 'mobilenet_v2'),
    ('effb0', 'efficientnet-b0'),
    ('effb1', 'efficientnet-b1'),
    ('effb3', 'efficientnet-b3'),
    ('effb5', 'efficientnet-b5'),
    ('effb7', 'efficientnet-b7'),
])
THESIS_CELL = ('unet', 'plain')

#: smp 0.6.0's defaults of the arguments a ``config.json`` holds (from the
#: classes' signatures); a folder whose config differs is refused unless
#: ``--cfg-options`` says how mmecho builds that network
SMP_DEFAULTS = {
    'Unet': dict(encoder_depth=5, decoder_use_norm='batchnorm',
                 decoder_channels=[256, 128, 64, 32, 16],
                 decoder_attention_type=None, decoder_interpolation='nearest',
                 activation=None, aux_params=None),
    'UnetPlusPlus': dict(encoder_depth=5, decoder_use_norm='batchnorm',
                         decoder_channels=[256, 128, 64, 32, 16],
                         decoder_attention_type=None,
                         decoder_interpolation='nearest', activation=None,
                         aux_params=None),
    'MAnet': dict(encoder_depth=5, decoder_use_norm='batchnorm',
                  decoder_channels=[256, 128, 64, 32, 16],
                  decoder_pab_channels=64, decoder_interpolation='nearest',
                  activation=None, aux_params=None),
    'Linknet': dict(encoder_depth=5, decoder_use_norm='batchnorm',
                    activation=None, aux_params=None),
    'FPN': dict(encoder_depth=5, decoder_pyramid_channels=256,
                decoder_segmentation_channels=128,
                decoder_merge_policy='add', decoder_dropout=0.2,
                decoder_interpolation='nearest', activation=None,
                upsampling=4, aux_params=None),
    'PSPNet': dict(encoder_depth=3, psp_out_channels=512,
                   decoder_use_norm='batchnorm', psp_dropout=0.2,
                   activation=None, upsampling=8, aux_params=None),
    'PAN': dict(encoder_depth=5, encoder_output_stride=16,
                decoder_channels=32, decoder_interpolation='bilinear',
                activation=None, upsampling=4, aux_params=None),
    'DeepLabV3': dict(encoder_depth=5, encoder_output_stride=8,
                      decoder_channels=256, decoder_atrous_rates=[12, 24, 36],
                      decoder_aspp_separable=False, decoder_aspp_dropout=0.5,
                      activation=None, upsampling=None, aux_params=None),
    'DeepLabV3Plus': dict(encoder_depth=5, encoder_output_stride=16,
                          decoder_channels=256,
                          decoder_atrous_rates=[12, 24, 36],
                          decoder_aspp_separable=True,
                          decoder_aspp_dropout=0.5, activation=None,
                          upsampling=4, aux_params=None),
}
#: config.json entries that do not change the predicted labels (dropout is
#: off at test time; the weights' origin is irrelevant once they are
#: trained)
_IGNORED_SMP_ARGS = ('encoder_weights', 'decoder_dropout', 'psp_dropout',
                     'decoder_aspp_dropout', 'activation')
# (``activation`` is applied after the logits; the labels mmecho predicts
# from the logits - argmax, or sigmoid > 0.5 = logit > 0 - are those of any
# of smp's monotonic activations)

#: lukemelas EfficientNet fingerprints: (blocks, last block's width)
_EFFNET_VARIANTS = {
    (16, 320): 'b0', (23, 320): 'b1', (23, 352): 'b2', (26, 384): 'b3',
    (32, 448): 'b4', (39, 512): 'b5', (45, 576): 'b6', (55, 640): 'b7'
}
_SHOW = 8  # keys named in an error message

_P = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_W = r'(weight|bias)'
_CB = ('conv', 'bn')


class ConversionError(ValueError):
    """The input cannot be converted (wrong cell, unreadable, unmapped,
    missing or misshapen tensors)."""


def _names(keys, n: int = _SHOW) -> str:
    keys = list(keys)
    more = f', ... ({len(keys)} in all)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def _where(src: str) -> str:
    return f' of {src}' if src else ''


def cell_name(arch: str, encoder: str) -> str:
    if (arch, encoder) == THESIS_CELL:
        return "the thesis's U-Net (paper 002 appendix, unet:plain)"
    return (f'smp.{SMP_ARCHS.get(arch, arch)} x '
            f'{SMP_ENCODERS.get(encoder, encoder)} ({arch}:{encoder})')


# ---------------------------------------------------------------------------
# Reading the input
# ---------------------------------------------------------------------------
_ST_DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16,
    'BF16': torch.bfloat16, 'I64': torch.int64, 'I32': torch.int32,
    'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8,
    'BOOL': torch.bool
}


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file (8-byte little-endian header
    length, a JSON header ``{name: {dtype, shape, data_offsets}}``, then
    the raw little-endian bytes), without the safetensors package."""
    if sys.byteorder != 'little':
        raise ConversionError('reading safetensors needs a little-endian '
                              'machine')
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise ConversionError(f'{path}: too short for a safetensors file')
    n = int.from_bytes(data[:8], 'little')
    if n <= 0 or 8 + n > len(data):
        raise ConversionError(f'{path}: not a safetensors file (header '
                              f'length {n}, file size {len(data)})')
    try:
        header = json.loads(data[8:8 + n].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConversionError(f'{path}: unreadable safetensors header '
                              f'({e})') from None
    if not isinstance(header, dict):
        raise ConversionError(f'{path}: not a safetensors file (the header '
                              'is not a JSON object)')
    body = memoryview(data)[8 + n:]
    out = OrderedDict()
    for name, info in header.items():
        if name == '__metadata__':
            continue
        try:
            dtype = _ST_DTYPES[info['dtype']]
            shape = [int(s) for s in info['shape']]
            begin, end = (int(o) for o in info['data_offsets'])
        except (KeyError, TypeError, ValueError):
            raise ConversionError(
                f'{path}: tensor {name!r} has an unsupported or malformed '
                f'entry {info!r}') from None
        itemsize = torch.empty((), dtype=dtype).element_size()
        count = 1
        for s in shape:
            count *= s
        if not 0 <= begin <= end <= len(body) or \
                end - begin != count * itemsize:
            raise ConversionError(f'{path}: tensor {name!r} has offsets '
                                  f'{begin}..{end} that do not fit its '
                                  f'shape {shape} ({info["dtype"]})')
        if count == 0:
            out[name] = torch.empty(shape, dtype=dtype)
            continue
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype)
        out[name] = t.reshape(shape)
    return out


def _unwrap(obj, src: str):
    if isinstance(obj, torch.nn.Module):
        raise ConversionError(_whole_model_message(src, type(obj).__name__))
    for key in ('state_dict', 'model_state_dict', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if isinstance(obj, torch.nn.Module):
        raise ConversionError(_whole_model_message(src, type(obj).__name__))
    if not isinstance(obj, dict) or not obj:
        raise ConversionError(
            f'{src} holds a {type(obj).__name__}, not a state dict (a dict '
            'of tensors, or a dict with one under state_dict / '
            'model_state_dict / model)')
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ConversionError(f'{src}: {len(bad)} entries of the state dict '
                              f'are not tensors: {_names(bad)}')
    return OrderedDict((str(k), v) for k, v in obj.items())


def _whole_model_message(src: str, what: str) -> str:
    return (f'{src} holds a pickled model object ({what}), not a state dict. '
            'Loading it would run code from the file, which this converter '
            'does not do (nothing was executed). Where the model was trained'
            ', save its weights: torch.save(model.state_dict(), '
            "'model.pth') (or model.save_pretrained(DIR) for smp), and "
            'convert that file.')


def strip_prefixes(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Remove ``module.`` / ``model.`` / ``_orig_mod.`` while every key has
    it."""
    changed = True
    while changed:
        changed = False
        for p in ('module.', 'model.', '_orig_mod.'):
            if sd and all(k.startswith(p) for k in sd):
                sd = OrderedDict((k[len(p):], v) for k, v in sd.items())
                changed = True
    return sd


def load_source(path: str) -> Tuple[Dict[str, torch.Tensor], Optional[dict]]:
    """``(state dict, smp config.json or None)`` of ``path``.

    Raises:
        ConversionError: unreadable, not a state dict, a pickled model, or a
            pickle that needs code to load (refused, never executed).
        FileNotFoundError: no such file or folder.
    """
    config = None
    if osp.isdir(path):
        st = osp.join(path, 'model.safetensors')
        if not osp.isfile(st):
            raise ConversionError(
                f'{path} is a folder without model.safetensors (expected '
                "smp's save_pretrained output: model.safetensors + "
                'config.json)')
        cfg_file = osp.join(path, 'config.json')
        if osp.isfile(cfg_file):
            with open(cfg_file) as f:
                try:
                    config = json.load(f)
                except json.JSONDecodeError as e:
                    raise ConversionError(f'{cfg_file}: not JSON ({e})')
        return strip_prefixes(read_safetensors(st)), config
    if not osp.exists(path):
        raise FileNotFoundError(f'{path}: no such file or folder')
    with open(path, 'rb') as f:
        head = f.read(9)
    n = int.from_bytes(head[:8], 'little') if len(head) == 9 else 0
    if path.endswith('.safetensors') or (head[8:9] == b'{' and
                                         0 < n < osp.getsize(path)):
        return strip_prefixes(read_safetensors(path)), None
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        text = str(e)
        bad_op = re.search(r'Unsupported operand \d+', text)
        if bad_op or ('WeightsUnpickler' not in text and
                      'Unsupported' not in text):
            # not a pickle at all (garbage, text, another format)
            raise ConversionError(
                f'{path}: not a PyTorch checkpoint or safetensors file ('
                f'{bad_op.group(0) if bad_op else text.splitlines()[0]})'
            ) from None
        m = re.search(r'GLOBAL ([\w.]+)', text)
        what = m.group(1) if m else None
        if what and (what.startswith(('segmentation_models_pytorch.',
                                      'torch.nn.', '__main__.')) or
                     re.search(r'\.[A-Z]\w*$', what)):
            raise ConversionError(
                _whole_model_message(path, what) +
                ' (torch.load(weights_only=True): unsupported global '
                f'{what})') from None
        raise ConversionError(
            f'{path} cannot be loaded with torch.load(weights_only=True): '
            'it holds Python objects that need code to load, which this '
            'converter does not run (refused, nothing executed). If it is a '
            'whole pickled model, save model.state_dict() instead.' +
            (f' (unsupported global {what})' if what else '')) from None
    except (RuntimeError, EOFError, ValueError) as e:
        raise ConversionError(f'{path}: not a PyTorch checkpoint or '
                              f'safetensors file ({e})') from None
    return strip_prefixes(_unwrap(obj, path)), config


# ---------------------------------------------------------------------------
# Detecting the cell
# ---------------------------------------------------------------------------
def detect_arch(keys) -> Optional[str]:
    """Grid architecture of a state dict from its decoder's names."""
    keys = set(keys)
    if {'down1.0.weight', 'up1.0.weight', 'out.weight'} <= keys:
        return 'unet'  # the thesis's U-Net (encoder 'plain')

    def has(prefix):
        return any(k.startswith(prefix) for k in keys)

    if has('decoder.blocks.x_0_0.'):
        return 'unetplusplus'
    if has('decoder.center.top_conv.'):
        return 'manet'
    if has('decoder.blocks.0.block.0.'):
        return 'linknet'
    if 'decoder.p5.weight' in keys:
        return 'fpn'
    if has('decoder.psp.'):
        return 'pspnet'
    if has('decoder.fpa.'):
        return 'pan'
    if has('decoder.aspp.0.convs.'):
        return 'deeplabv3plus'
    if has('decoder.aspp.convs.') or has('decoder.0.convs.'):
        return 'deeplabv3'
    if has('decoder.blocks.0.conv1.0.'):
        return 'unet'
    return None


def _count_children(keys, prefix: str) -> int:
    pat = re.compile(re.escape(prefix) + r'(\d+)\.')
    return len({m.group(1) for k in keys for m in [pat.match(k)] if m})


def detect_encoder(sd: Dict[str, torch.Tensor]) -> Tuple[Optional[str], str]:
    """``(grid encoder key or None, what was seen)``."""
    keys = set(sd)
    if {'down1.0.weight', 'up1.0.weight', 'out.weight'} <= keys:
        return 'plain', "the thesis's U-Net"
    if 'encoder.conv1.weight' in keys and 'encoder.layer1.0.conv1.weight' \
            in keys:
        bottleneck = 'encoder.layer1.0.conv3.weight' in keys
        blocks = tuple(
            _count_children(keys, f'encoder.layer{i}.') for i in range(1, 5))
        table = {(False, (2, 2, 2, 2)): 'r18', (False, (3, 4, 6, 3)): 'r34',
                 (True, (3, 4, 6, 3)): 'r50', (True, (3, 4, 23, 3)): 'r101'}
        seen = (f'a ResNet ({"bottleneck" if bottleneck else "basic"} '
                f'blocks {blocks})')
        return table.get((bottleneck, blocks)), seen
    if 'encoder.features.0.0.weight' in keys and any(
            k.startswith('encoder.features.1.conv.') for k in keys):
        width = sd['encoder.features.0.0.weight'].shape[0]
        n = _count_children(keys, 'encoder.features.')
        seen = f'a MobileNetV2 (stem width {width}, {n} feature modules)'
        return ('mbv2' if (width, n) == (32, 19) else None), seen
    if 'encoder._conv_stem.weight' in keys:
        n = _count_children(keys, 'encoder._blocks.')
        last = sd.get(f'encoder._blocks.{n - 1}._project_conv.weight')
        width = None if last is None else last.shape[0]
        variant = _EFFNET_VARIANTS.get((n, width))
        seen = (f'an EfficientNet ({n} blocks, last width {width}' +
                (f': efficientnet-{variant})' if variant else ')'))
        key = f'eff{variant}' if variant else None
        return (key if key in SMP_ENCODERS else None), seen
    return None, 'no encoder smp 0.6.0 builds for the grid'


def detect_cell(
        sd: Dict[str, torch.Tensor]) -> Tuple[Optional[str], Optional[str],
                                              str]:
    """``(arch, encoder, description)``; None where the keys do not tell."""
    arch = detect_arch(sd)
    enc, seen = detect_encoder(sd)
    if arch == 'unet' and enc == 'plain':
        return arch, enc, "the thesis's U-Net"
    if enc == 'plain':
        enc = None
    what = (f'{f"smp.{SMP_ARCHS[arch]}" if arch else "no known decoder"} '
            f'with {seen}')
    return arch, enc, what


def head_channels(sd: Dict[str, torch.Tensor]) -> Optional[int]:
    for k in ('segmentation_head.0.weight', 'out.weight'):
        if k in sd and sd[k].ndim == 4:
            return int(sd[k].shape[0])
    return None


# ---------------------------------------------------------------------------
# Key mapping
# ---------------------------------------------------------------------------
def _sub(pattern: str, repl, key: str) -> Optional[str]:
    m = re.fullmatch(pattern, key)
    if not m:
        return None
    return repl(m) if callable(repl) else m.expand(repl)


def _first(key: str, rules) -> Optional[str]:
    for pattern, repl in rules:
        new = _sub(pattern, repl, key)
        if new is not None:
            return new
    return None


def _cb(i: str) -> str:
    return _CB[int(i)]


def _sep(i: str) -> str:
    return ('depthwise_conv', 'pointwise_conv')[int(i)]


_DH = 'decode_head.'
_HEAD = [(rf'segmentation_head\.0\.{_W}', _DH + r'conv_seg.\1')]


def _aspp_rules(prefix: str, separable: bool) -> list:
    a = re.escape(prefix)
    rules = [
        (rf'{a}convs\.0\.([01])\.{_P}',
         lambda m: f'{_DH}aspp.branches.0.{_cb(m[1])}.{m[2]}'),
        (rf'{a}convs\.4\.1\.weight', _DH + 'aspp.image_pool.1.conv.weight'),
        (rf'{a}convs\.4\.2\.{_P}', _DH + r'aspp.image_pool.1.bn.\1'),
        (rf'{a}project\.0\.weight', _DH + 'aspp.project.conv.weight'),
        (rf'{a}project\.1\.{_P}', _DH + r'aspp.project.bn.\1'),
    ]
    if separable:
        rules += [
            (rf'{a}convs\.([123])\.0\.([01])\.weight',
             lambda m: f'{_DH}aspp.branches.{m[1]}.{_sep(m[2])}.conv.weight'),
            (rf'{a}convs\.([123])\.1\.{_P}',
             _DH + r'aspp.branches.\1.pointwise_conv.bn.\2'),
        ]
    else:
        rules += [
            (rf'{a}convs\.([123])\.([01])\.{_P}',
             lambda m: f'{_DH}aspp.branches.{m[1]}.{_cb(m[2])}.{m[3]}'),
        ]
    return rules


def decoder_rules(arch: str, sd: Dict[str, torch.Tensor]) -> list:
    """``[(pattern, replacement)]`` for smp's decoder and head of ``arch``
    (some depend on the source's structure: U-Net++'s depth, which MA-Net
    blocks have a skip, how many GAUs PAN has, separable ASPP)."""
    keys = list(sd)
    if arch == 'unet':
        return _HEAD + [
            (rf'decoder\.blocks\.(\d+)\.conv([12])\.([01])\.{_P}',
             lambda m: f'{_DH}blocks.{m[1]}.conv{m[2]}.{_cb(m[3])}.{m[4]}'),
        ]
    if arch == 'unetplusplus':
        # smp's x_{d}_{l} (l: decoder column from the deepest skip, d: how
        # far up the nest) is mmecho's node X[depth-1-l][l-d+1]; x_0_depth is
        # the final block without a skip
        cols = [int(m[1]) for k in keys
                for m in [re.match(r'decoder\.blocks\.x_0_(\d+)\.', k)] if m]
        depth = max(cols) if cols else 0

        def node(m):
            d, col = int(m[1]), int(m[2])
            where = ('final.0' if (d, col) == (0, depth) else
                     f'nodes.{depth - 1 - col}_{col - d + 1}')
            return f'{_DH}{where}.conv{m[3]}.{_cb(m[4])}.{m[5]}'

        return _HEAD + [
            (rf'decoder\.blocks\.x_(\d+)_(\d+)\.conv([12])\.([01])\.{_P}',
             node)
        ]
    if arch == 'manet':
        mfab = {m[1] for k in keys
                for m in [re.match(r'decoder\.blocks\.(\d+)\.hl_conv\.', k)]
                if m}
        pab = dict(top='key', center='query', bottom='value', out='out')

        def block_conv(m):
            if m[1] in mfab:  # MFAB: conv1/conv2 fuse [x * gate, skip]
                return (f'{_DH}blocks.{m[1]}.fuse.{int(m[2]) - 1}.'
                        f'{_cb(m[3])}.{m[4]}')
            return f'{_DH}blocks.{m[1]}.conv{m[2]}.{_cb(m[3])}.{m[4]}'

        return _HEAD + [
            (rf'decoder\.center\.(top|center|bottom|out)_conv\.{_W}',
             lambda m: f'{_DH}pab.{pab[m[1]]}.{m[2]}'),
            (rf'decoder\.blocks\.(\d+)\.hl_conv\.([01])\.([01])\.{_P}',
             lambda m: f'{_DH}blocks.{m[1]}.high.{m[2]}.{_cb(m[3])}.{m[4]}'),
            (rf'decoder\.blocks\.(\d+)\.SE_hl\.([13])\.{_W}',
             _DH + r'blocks.\1.se_high.\2.\3'),
            (rf'decoder\.blocks\.(\d+)\.SE_ll\.([13])\.{_W}',
             _DH + r'blocks.\1.se_low.\2.\3'),
            (rf'decoder\.blocks\.(\d+)\.conv([12])\.([01])\.{_P}', block_conv),
        ]
    if arch == 'linknet':
        part = {'0': 'reduce', '2': 'expand'}
        return _HEAD + [
            (rf'decoder\.blocks\.(\d+)\.block\.([02])\.([01])\.{_P}',
             lambda m: f'{_DH}blocks.{m[1]}.{part[m[2]]}.{_cb(m[3])}.{m[4]}'),
            (rf'decoder\.blocks\.(\d+)\.block\.1\.([01])\.{_P}',
             _DH + r'blocks.\1.up.\2.\3'),
        ]
    if arch == 'fpn':
        # smp: p5 (deepest) ... p2 and seg_blocks[0] (p5, 3 upsamplings) ...
        # seg_blocks[3] (p2); mmecho: shallow to deep
        return _HEAD + [
            (rf'decoder\.p5\.{_W}', _DH + r'lateral_convs.3.\1'),
            (rf'decoder\.p([234])\.skip_conv\.{_W}',
             lambda m: f'{_DH}lateral_convs.{int(m[1]) - 2}.{m[2]}'),
            (r'decoder\.seg_blocks\.([0-3])\.block\.(\d+)\.block\.0\.weight',
             lambda m: f'{_DH}seg_blocks.{3 - int(m[1])}.{m[2]}.conv.weight'),
            (rf'decoder\.seg_blocks\.([0-3])\.block\.(\d+)\.block\.1\.{_W}',
             lambda m: f'{_DH}seg_blocks.{3 - int(m[1])}.{m[2]}.gn.{m[3]}'),
        ]
    if arch == 'pspnet':
        return _HEAD + [
            (rf'decoder\.psp\.blocks\.(\d+)\.pool\.1\.([01])\.{_P}',
             lambda m: f'{_DH}psp_modules.{m[1]}.1.{_cb(m[2])}.{m[3]}'),
            (rf'decoder\.conv\.([01])\.{_P}',
             lambda m: f'{_DH}bottleneck.{_cb(m[1])}.{m[2]}'),
        ]
    if arch == 'pan':
        gaus = sorted({int(m[1]) for k in keys
                       for m in [re.match(r'decoder\.gau(\d)\.', k)] if m})
        n = len(gaus)
        cbn = r'(conv|bn)\.' + _P

        def norm(part):
            return 'norm' if part == 'bn' else 'conv'

        fpa = dict(branch1='gap.1', mid='mid', conv1='lat1', conv2='lat2')
        return _HEAD + [
            (rf'decoder\.fpa\.(branch1)\.1\.{cbn}',
             lambda m: f'{_DH}fpa.{fpa[m[1]]}.{norm(m[2])}.{m[3]}'),
            (rf'decoder\.fpa\.(mid)\.0\.{cbn}',
             lambda m: f'{_DH}fpa.{fpa[m[1]]}.{norm(m[2])}.{m[3]}'),
            (rf'decoder\.fpa\.(conv[12])\.{cbn}',
             lambda m: f'{_DH}fpa.{fpa[m[1]]}.{norm(m[2])}.{m[3]}'),
            (rf'decoder\.fpa\.(down[123])\.([12])\.{cbn}',
             lambda m: f'{_DH}fpa.{m[1]}.{m[2]}.{norm(m[3])}.{m[4]}'),
            # smp's gau3 (deepest skip) ... gau1 = mmecho's gaus[0] ...
            (rf'decoder\.gau([123])\.conv1\.1\.{cbn}',
             lambda m: f'{_DH}gaus.{n - int(m[1])}.gate.1.{norm(m[2])}.'
             f'{m[3]}'),
            (rf'decoder\.gau([123])\.conv2\.{cbn}',
             lambda m: f'{_DH}gaus.{n - int(m[1])}.low.{norm(m[2])}.{m[3]}'),
        ]
    if arch == 'deeplabv3':
        separable = any(
            re.match(r'decoder\.(aspp|0)\.convs\.1\.0\.0\.', k) for k in keys)
        return _HEAD + _aspp_rules('decoder.aspp.', separable) + [
            (r'decoder\.conv\.weight', _DH + 'bottleneck.conv.weight'),
            (rf'decoder\.bn\.{_P}', _DH + r'bottleneck.bn.\1'),
        ]
    if arch == 'deeplabv3plus':
        separable = any(
            k.startswith('decoder.aspp.0.convs.1.0.0.') for k in keys)
        return _HEAD + _aspp_rules('decoder.aspp.0.', separable) + [
            (r'decoder\.aspp\.1\.([01])\.weight',
             lambda m: f'{_DH}aspp_bottleneck.{_sep(m[1])}.conv.weight'),
            (rf'decoder\.aspp\.2\.{_P}',
             _DH + r'aspp_bottleneck.pointwise_conv.bn.\1'),
            (rf'decoder\.block1\.([01])\.{_P}',
             lambda m: f'{_DH}c1_bottleneck.{_cb(m[1])}.{m[2]}'),
            (r'decoder\.block2\.0\.([01])\.weight',
             lambda m: f'{_DH}fuse.{_sep(m[1])}.conv.weight'),
            (rf'decoder\.block2\.1\.{_P}', _DH + r'fuse.pointwise_conv.bn.\1'),
        ]
    raise ValueError(f'unknown architecture {arch!r}')


def _legacy_deeplabv3(sd):
    """smp < 0.5 kept DeepLabV3's decoder as a Sequential (``decoder.0``
    ASPP, ``decoder.1`` conv, ``decoder.2`` BN); smp 0.6.0's own
    ``load_state_dict`` renames them, and so does this."""
    out = OrderedDict()
    for k, v in sd.items():
        for old, new in (('decoder.0.', 'decoder.aspp.'),
                         ('decoder.1.', 'decoder.conv.'),
                         ('decoder.2.', 'decoder.bn.')):
            if k.startswith(old):
                k = new + k[len(old):]
                break
        out[k] = v
    return out


_THESIS_RULES = [
    # conv_block = Sequential(conv, BN, ReLU, conv, BN, ReLU): 0, 1 / 3, 4
    # are mmecho's ConvModules 0 / 1 (conv, bn); down1..4 = encoder levels,
    # up3 / up2 / up1 = decoder levels 0 / 1 / 2 (deepest first)
    (rf'down([1-4])\.([0134])\.{_P}', lambda m: (
        f'backbone.encoder.{int(m[1]) - 1}.{int(m[2] in "34")}.'
        f'{"conv" if m[2] in "03" else "bn"}.{m[3]}')),
    (rf'up([1-3])\.([0134])\.{_P}', lambda m: (
        f'backbone.decoder.{3 - int(m[1])}.{int(m[2] in "34")}.'
        f'{"conv" if m[2] in "03" else "bn"}.{m[3]}')),
    (rf'out\.{_W}', _DH + r'conv_seg.\1'),
]

_RESNET_KEY = re.compile(
    rf'(conv1\.weight|bn1\.{_P}|layer[1-4]\.\d+\.(conv[1-3]\.weight|'
    rf'bn[1-3]\.{_P}|downsample\.0\.weight|downsample\.1\.{_P}))')


def encoder_renames(encoder: str, enc_keys: List[str],
                    backbone) -> Tuple[Dict[str, str], List[str]]:
    """``({smp encoder key (without 'encoder.'): body key}, smp's unused
    head keys)`` for one encoder family; keys absent from the dict are not
    part of that encoder."""
    from mmecho.models.backbones.imagenet_weights import (
        convert_lukemelas_efficientnet, convert_torchvision_mobilenet_v2)
    if encoder.startswith('r'):
        return {k: k for k in enc_keys if _RESNET_KEY.fullmatch(k)}, []
    if encoder == 'mbv2':
        # the ImageNet-weight converter moves values; move the names
        moved = convert_torchvision_mobilenet_v2({k: k for k in enc_keys})
        return {old: new for new, old in moved.items() if new != old}, []
    if encoder.startswith('eff'):
        moved = convert_lukemelas_efficientnet({k: k for k in enc_keys},
                                               backbone.block_names)
        head = [k for k in enc_keys if k.startswith(('_conv_head.', '_bn1.'))]
        return {old: new for new, old in moved.items() if new != old}, head
    raise ValueError(f'unknown encoder {encoder!r}')


def map_keys(sd: Dict[str, torch.Tensor], arch: str, encoder: str,
             model) -> Tuple['OrderedDict[str, str]', List[str], List[str]]:
    """``({mmecho key: source key}, unmapped source keys, source keys smp
    builds but never runs for this network)`` for ``model`` (the built
    mmecho segmentor: its encoder's block names and unbuilt levels)."""
    mapping = OrderedDict()
    unmapped, unused = [], []
    if (arch, encoder) == THESIS_CELL:
        for k in sd:
            new = _first(k, _THESIS_RULES)
            if new is None:
                unmapped.append(k)
            else:
                mapping[new] = k
        return mapping, unmapped, unused
    backbone = model.backbone
    enc_keys = [k[len('encoder.'):] for k in sd if k.startswith('encoder.')]
    renames, head = encoder_renames(encoder, enc_keys, backbone)
    unbuilt = tuple(
        p + '.' for p in getattr(backbone, 'unbuilt_prefixes', ()))
    rules = decoder_rules(arch, sd)
    for k in sd:
        if k.startswith('encoder.'):
            short = k[len('encoder.'):]
            if short in head:
                unused.append(k)
                continue
            body = renames.get(short)
            if body is None:
                unmapped.append(k)
            elif unbuilt and body.startswith(unbuilt):
                unused.append(k)
            else:
                mapping['backbone.body.' + body] = k
            continue
        new = _first(k, rules)
        if new is None:
            unmapped.append(k)
        elif new in mapping:
            raise ConversionError(f'{mapping[new]!r} and {k!r} both map to '
                                  f'{new!r}')
        else:
            mapping[new] = k
    return mapping, unmapped, unused


# ---------------------------------------------------------------------------
# The target model and the conversion
# ---------------------------------------------------------------------------
def config_for(arch: str, encoder: str, protocol: str) -> str:
    from mmecho.grid import leaf_config_path
    return leaf_config_path(arch, encoder, root=osp.join(ROOT, 'configs'),
                            protocol=protocol)


def build_model(config: str, cfg_options: Optional[dict] = None):
    """The config's model (CPU, eval mode) and the parsed config."""
    from mmecho.utils import build_model_from_config
    model, cfg = build_model_from_config(config, cfg_options)
    return model.eval(), cfg


def _rel(path: str) -> str:
    path = osp.abspath(path)
    return osp.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def convert(sd: Dict[str, torch.Tensor],
            arch: str,
            encoder: str,
            model,
            src: str = '',
            config: str = '') -> Tuple['OrderedDict[str, torch.Tensor]',
                                       dict]:
    """smp (or thesis U-Net) state dict -> ``model``'s state dict.

    Returns:
        ``(state dict in model's names and dtypes, report)``; the report has
        ``mapped``, ``dropped_unused`` (source keys) and ``source_of``
        ({mmecho key: source key}).

    Raises:
        ConversionError: unmapped source keys, missing target tensors or
            shape mismatches, naming the keys and the cell expected.
    """
    expected = (f'{cell_name(arch, encoder)}' +
                (f', the model of {_rel(config)}' if config else ''))
    if arch == 'deeplabv3':
        sd = _legacy_deeplabv3(sd)
    mapping, unmapped, unused = map_keys(sd, arch, encoder, model)
    target = model.state_dict()
    if unmapped:
        d_arch, d_enc, what = detect_cell(sd)
        hint = ''
        if (d_arch, d_enc) != (arch, encoder):
            if d_arch and d_enc:
                hint = (f' The keys look like {cell_name(d_arch, d_enc)}: '
                        f'convert with --arch {d_arch} --encoder {d_enc} (or '
                        'without them, to detect the cell).')
            else:
                hint = f' The keys look like {what}.'
        aux = [k for k in unmapped if k.startswith('classification_head.')]
        if aux:
            hint += (" classification_head.* is smp's auxiliary classifier "
                     '(aux_params), which the grid models do not have: '
                     'remove those keys to convert the segmentation network.')
        raise ConversionError(
            f'{len(unmapped)} of the {len(sd)} tensors{_where(src)} have no '
            f'place in {expected} (no mapping): {_names(unmapped)}.{hint}')
    missing = [k for k in target if k not in mapping]
    extra = [k for k in mapping if k not in target]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f'{len(missing)} of its {len(target)} tensors are '
                         f'not in the checkpoint: {_names(missing)}')
        if extra:
            parts.append(f'{len(extra)} tensors of the checkpoint have no '
                         'place in it: ' + _names(
                             f'{mapping[k]} -> {k}' for k in extra))
        raise ConversionError(f'the checkpoint{_where(src)} does not fit '
                              f'{expected}: ' + '; '.join(parts) +
                              '. Is it that cell, built with smp\'s default '
                              'arguments (else see --cfg-options)?')
    bad = [(mapping[k], k, tuple(sd[mapping[k]].shape), tuple(v.shape))
           for k, v in target.items()
           if tuple(sd[mapping[k]].shape) != tuple(v.shape)]
    if bad:
        raise ConversionError(
            f'the checkpoint{_where(src)} does not fit {expected}: '
            f'{len(bad)} shape mismatches (source -> target: checkpoint '
            'shape vs model shape): ' + _names(
                [f'{s} -> {t}: {a} vs {b}' for s, t, a, b in bad], 5) +
            '. Is it that cell, built with smp\'s default arguments (else '
            'see --cfg-options), and in_channels=3?')
    out = OrderedDict()
    for k, v in target.items():
        out[k] = sd[mapping[k]].detach().to(dtype=v.dtype,
                                            device='cpu').clone()
    report = dict(
        mapped=len(out), dropped_unused=sorted(unused), source_of=mapping)
    return out, report


def resolve_cell(sd: Dict[str, torch.Tensor],
                 arch: Optional[str] = None,
                 encoder: Optional[str] = None,
                 smp_config: Optional[dict] = None,
                 src: str = '') -> Tuple[str, str]:
    """The cell to convert to: ``--arch`` / ``--encoder`` where given (and
    ``config.json``'s model class / encoder name), else detected."""
    from mmecho.grid import check_cell
    if smp_config:
        cls = smp_config.get('_model_class')
        name = smp_config.get('encoder_name')
        c_arch = next((a for a, c in SMP_ARCHS.items() if c == cls), None)
        c_enc = next((e for e, n in SMP_ENCODERS.items() if n == name), None)
        if c_arch is None or c_enc is None:
            raise ConversionError(
                f'config.json{_where(src)} describes smp.{cls} with encoder '
                f'{name!r}, which is not a grid cell (architectures: '
                f'{", ".join(SMP_ARCHS.values())}; encoders: '
                f'{", ".join(SMP_ENCODERS.values())})')
        for given, found, flag in ((arch, c_arch, '--arch'),
                                   (encoder, c_enc, '--encoder')):
            if given and given != found:
                raise ConversionError(
                    f'{flag} {given} contradicts config.json{_where(src)} '
                    f'(smp.{cls}, {name}: {c_arch}:{c_enc})')
        arch, encoder = c_arch, c_enc
    if arch and encoder:
        check_cell(arch, encoder)
        if encoder == 'plain' and arch != 'unet':
            raise ConversionError(
                f'{arch}:plain has no smp network (smp needs an encoder); '
                "the only plain cell converted is the thesis's U-Net "
                '(unet:plain)')
        return arch, encoder
    d_arch, d_enc, what = detect_cell(sd)
    arch = arch or d_arch
    encoder = encoder or d_enc
    if not (arch and encoder):
        raise ConversionError(
            f'cannot tell the grid cell from the keys{_where(src)} (found '
            f'{what}; first keys: {_names(list(sd), 4)}): pass --arch and '
            f'--encoder (architectures: {", ".join(SMP_ARCHS)}; encoders: '
            f'{", ".join(SMP_ENCODERS)}; unet + plain for the thesis U-Net)')
    check_cell(arch, encoder)
    return arch, encoder


def resolve_protocol(channels: Optional[int], protocol: Optional[str],
                     src: str = '') -> str:
    """``camus`` (4 output channels) or ``thesis`` (1), checked against
    ``--protocol``."""
    expected = {'camus': 4, 'thesis': 1}
    if channels is None:
        if protocol:
            return protocol
        raise ConversionError(
            f'no segmentation head (segmentation_head.0.weight / out.weight) '
            f'found{_where(src)}: pass --protocol')
    if protocol is None:
        for p, c in expected.items():
            if c == channels:
                return p
        raise ConversionError(
            f'the checkpoint{_where(src)} has {channels} output channels; '
            'the grid protocols have 4 (camus: background, LV, myocardium, '
            'LA) or 1 (thesis: the LV, one sigmoid channel)')
    if protocol in expected and expected[protocol] != channels:
        other = [p for p, c in expected.items() if c == channels]
        raise ConversionError(
            f'--protocol {protocol} expects {expected[protocol]} output '
            f'channels, the checkpoint{_where(src)} has {channels}' +
            (f': use --protocol {other[0]}' if other else ''))
    return protocol


def check_smp_config(smp_config: Optional[dict], cfg_options, src=''):
    """Refuse a config.json with non-default smp arguments (they change the
    network) unless ``--cfg-options`` describes them."""
    if not smp_config:
        return {}
    cls = smp_config.get('_model_class')
    defaults = SMP_DEFAULTS.get(cls, {})
    differ = {}
    for k, d in defaults.items():
        if k in smp_config and k not in _IGNORED_SMP_ARGS:
            v = smp_config[k]
            v = list(v) if isinstance(v, tuple) else v
            if v != d:
                differ[k] = v
    if smp_config.get('in_channels', 3) != 3:
        raise ConversionError(
            f'config.json{_where(src)}: in_channels='
            f'{smp_config["in_channels"]}; the grid models take 3-channel '
            'input')
    if differ and not cfg_options:
        raise ConversionError(
            f'config.json{_where(src)} has non-default smp arguments '
            + ', '.join(f'{k}={v!r} (default {defaults[k]!r})'
                        for k, v in differ.items()) +
            '; the leaf configs build smp\'s defaults. Pass --cfg-options '
            'that build the same network (see docs/smp_weights.md), or '
            '--config.')
    return differ


def convert_file(src: str,
                 dst: str,
                 arch: Optional[str] = None,
                 encoder: Optional[str] = None,
                 protocol: Optional[str] = None,
                 config: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> dict:
    """Convert ``src`` and write ``dst`` atomically; returns the meta."""
    from mmecho.utils import atomic_write
    sd, smp_config = load_source(src)
    arch, encoder = resolve_cell(sd, arch, encoder, smp_config, src)
    channels = head_channels(sd)
    protocol = resolve_protocol(channels, protocol, src)
    differ = check_smp_config(smp_config, cfg_options, src)
    config = config or config_for(arch, encoder, protocol)
    model, cfg = build_model(config, cfg_options)
    out_channels = model.decode_head.conv_seg.out_channels
    if channels is not None and channels != out_channels:
        raise ConversionError(
            f'{src} has {channels} output channels, the model of '
            f'{_rel(config)} {out_channels}')
    converted, report = convert(sd, arch, encoder, model, src, config)
    from mmecho.apis.mmode_inputs import file_sha256
    weights = osp.join(src, 'model.safetensors') if osp.isdir(src) else src
    thesis = (arch, encoder) == THESIS_CELL
    meta = dict(
        converted_from=("the thesis's U-Net (paper 002 appendix, UNet, "
                        'SIZE=32)' if thesis else
                        f'segmentation_models_pytorch {SMP_VERSION} '
                        f'smp.{SMP_ARCHS[arch]}(encoder_name='
                        f'{SMP_ENCODERS[encoder]!r})'),
        source_file=osp.basename(osp.normpath(src)),
        source_sha256=file_sha256(weights),
        cell=f'{arch}:{encoder}',
        protocol=protocol,
        config=_rel(config),
        cfg_options=dict(cfg_options or {}),
        num_classes=channels if channels is not None else out_channels,
        dropped_unused=len(report['dropped_unused']),
        converter='tools/model_converters/smp2mmecho.py')
    if smp_config:
        meta['smp_config'] = smp_config
        meta['smp_non_default'] = differ
    with atomic_write(dst, 'wb') as f:
        torch.save({'state_dict': converted, 'meta': meta}, f)
    return dict(meta, tensors=len(converted))


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Convert an smp 0.6.0 (or thesis U-Net) checkpoint to '
        'an mmecho CAMUS-grid checkpoint')
    parser.add_argument(
        'src', help='state dict (.pth/.pt), smp save_pretrained folder or '
        '.safetensors')
    parser.add_argument('dst', help='output mmecho checkpoint (.pth)')
    parser.add_argument(
        '--arch', choices=list(SMP_ARCHS),
        help='grid architecture (default: detected from the keys)')
    parser.add_argument(
        '--encoder', choices=list(SMP_ENCODERS) + ['plain'],
        help="grid encoder; 'plain' with unet = the thesis's U-Net "
        '(default: detected)')
    parser.add_argument(
        '--protocol', choices=['camus', 'thesis'],
        help='leaf config family: camus (4 classes) or thesis (1 output '
        "channel); default: from the checkpoint's head")
    parser.add_argument(
        '--config', help='mmecho config to fill instead of the leaf config')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, for smp networks built with '
        'non-default arguments (pass the same to tools/test.py)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        info = convert_file(args.src, args.dst, args.arch, args.encoder,
                            args.protocol, args.config, args.cfg_options)
    except (ConversionError, ValueError, FileNotFoundError) as e:
        print(f'smp2mmecho: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}: {info["tensors"]} tensors of '
          f'{info["converted_from"]} ({info["cell"]}, protocol '
          f'{info["protocol"]}, {info["num_classes"]} output channels'
          + (f', {info["dropped_unused"]} tensors smp never runs dropped'
             if info['dropped_unused'] else '') +
          f') for {info["config"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
