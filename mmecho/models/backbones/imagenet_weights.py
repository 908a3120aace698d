# Copyright (c) mmecho contributors. All rights reserved.
"""ImageNet weights in their published layouts for the CAMUS-grid encoders.

The thesis initialised every encoder with ImageNet weights as
segmentation_models_pytorch distributes them. Those files keep the key
layout of the network they were trained in, which is not the layout of the
mmseg/mmdet networks the encoders wrap (``StagedEncoder.body``):

===============================  ========================================
layout (:func:`detect_layout`)   files (``published``: their names)
===============================  ========================================
``torchvision_resnet``           torchvision ResNet-18/34/50/101
                                 (``conv1``, ``bn1``, ``layer1.0.conv1``,
                                 ``layer1.0.downsample.0/1``, ``fc``)
``torchvision_mobilenet_v2``     torchvision MobileNetV2 (``features.0``
                                 ... ``features.18``, ``classifier.1``)
``lukemelas_efficientnet``       lukemelas' EfficientNet-PyTorch, the
                                 weights smp's ``efficientnet-bX`` uses
                                 (``_conv_stem``, ``_bn0``, ``_blocks.N``,
                                 ``_conv_head``, ``_bn1``, ``_fc``)
``encoder``                      anything else: taken as the encoder's
                                 own ``body`` layout (mmseg ResNet /
                                 MobileNetV2, mmdet EfficientNet, an
                                 mmpretrain ``backbone.*`` checkpoint, an
                                 encoder's or a segmentor's state dict)
===============================  ========================================

:func:`load_pretrained_weights` reads the file (local files through
mmecho's safe loader, ``weights_only=True``; ``torchvision://``,
``open-mmlab://`` and ``http(s)://`` through mmengine's
``CheckpointLoader``, which downloads), converts the keys and loads them
strictly: every tensor of the encoder must come from the file with its
shape, and every tensor of the file must land in the encoder (the
classifier and EfficientNet's head excepted, and the modules of levels the
encoder does not build), else a :class:`CheckpointMismatchError` names the
file, the counts of missing / unexpected / mismatched tensors and a few
names. There is no partial load.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.logging import print_log

from mmecho.engine.checkpoint import (CheckpointError, CheckpointMismatchError,
                                      load_local_checkpoint)

#: layouts :func:`detect_layout` recognises, with a description
LAYOUTS = OrderedDict([
    ('torchvision_resnet', 'torchvision ResNet'),
    ('torchvision_mobilenet_v2', 'torchvision MobileNetV2'),
    ('lukemelas_efficientnet', 'lukemelas EfficientNet-PyTorch'),
    ('encoder', "the encoder's own (body) layout"),
])

#: URI schemes handed to mmengine's ``CheckpointLoader`` (they download)
REMOTE_PREFIXES = ('torchvision://', 'open-mmlab://', 'openmmlab://',
                   'mmcls://', 'http://', 'https://')

# torchvision MobileNetV2's inverted-residual groups (t, c, n, s): blocks per
# group, the same in mmseg's MobileNetV2 (layer1..layer7)
_MBV2_BLOCKS_PER_LAYER = (1, 2, 3, 4, 3, 3, 1)

# lukemelas MBConvBlock member -> mmdet EfficientNet block member
_EFFNET_BLOCK_KEYS = OrderedDict([
    ('_expand_conv.', 'expand_conv.conv.'),
    ('_bn0.', 'expand_conv.bn.'),
    ('_depthwise_conv.', 'depthwise_conv.conv.'),
    ('_bn1.', 'depthwise_conv.bn.'),
    ('_se_reduce.', 'se.conv1.conv.'),
    ('_se_expand.', 'se.conv2.conv.'),
    ('_project_conv.', 'linear_conv.conv.'),
    ('_bn2.', 'linear_conv.bn.'),
])


def _examples(names: Sequence[str], n: int = 3) -> str:
    names = list(names)
    more = f', ... ({len(names) - n} more)' if len(names) > n else ''
    return ', '.join(names[:n]) + more


def is_remote(filename: str) -> bool:
    """True for the URIs that :func:`read_checkpoint` downloads."""
    return str(filename).startswith(REMOTE_PREFIXES)


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """The checkpoint at ``filename``: a local file through
    :func:`mmecho.engine.checkpoint.load_local_checkpoint` (``weights_only``
    unless trusted), a ``torchvision://``, ``open-mmlab://`` or
    ``http(s)://`` URI through mmengine's ``CheckpointLoader`` (needs
    network access)."""
    if is_remote(filename):
        from mmengine.runner.checkpoint import CheckpointLoader
        try:
            return CheckpointLoader.load_checkpoint(
                filename, map_location=map_location)
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(
                f'{filename}: could not be fetched ({type(e).__name__}: {e}). '
                'Without network access, download the file elsewhere and '
                'pass its local path.') from None
    return load_local_checkpoint(filename, map_location=map_location)


def tensors_of(checkpoint) -> Dict[str, torch.Tensor]:
    """The tensors of a checkpoint: the dict itself or its ``state_dict`` /
    ``model`` entry; DDP's ``module.`` prefix is removed, and a model's
    ``backbone.`` (mmpretrain / mmseg / a CAMUS segmentor) and an encoder's
    ``body.`` prefixes when every tensor key carries them (other keys, e.g.
    ``head.*``, are then left out)."""
    sd = checkpoint
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), dict):
                sd = checkpoint[key]
                break
    if not isinstance(sd, dict):
        raise CheckpointError(
            f'expected a dict of tensors, got {type(sd).__name__}')
    sd = {
        re.sub(r'^module\.', '', str(k)): v
        for k, v in sd.items() if isinstance(v, torch.Tensor)
    }
    if any(k.startswith('backbone.') for k in sd):
        sd = {k[9:]: v for k, v in sd.items() if k.startswith('backbone.')}
    if sd and all(k.startswith('body.') for k in sd):
        sd = {k[5:]: v for k, v in sd.items()}
    return sd


def detect_layout(state_dict: Dict[str, torch.Tensor]) -> str:
    """One of :data:`LAYOUTS` from the key names alone."""
    keys = set(state_dict)
    if '_conv_stem.weight' in keys and any(
            k.startswith('_blocks.0.') for k in keys):
        return 'lukemelas_efficientnet'
    if 'features.0.0.weight' in keys and any(
            k.startswith('features.1.conv.') for k in keys):
        return 'torchvision_mobilenet_v2'
    if {'conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight'} <= keys:
        return 'torchvision_resnet'
    return 'encoder'


def convert_torchvision_resnet(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """torchvision ResNet -> mmseg ``ResNet`` (``ResNetEncoder.body``): the
    same names (``conv1``, ``bn1``, ``layerX.Y.convZ/bnZ``,
    ``layerX.0.downsample.0/1``); the classifier ``fc.*`` is dropped."""
    return OrderedDict(
        (k, v) for k, v in state_dict.items() if not k.startswith('fc.'))


def _mbv2_block_names() -> List[str]:
    """torchvision ``features.i`` (1..17) -> mmseg ``layerL.J``."""
    names = []
    for layer, n in enumerate(_MBV2_BLOCKS_PER_LAYER, start=1):
        names += [f'layer{layer}.{j}' for j in range(n)]
    return names


def convert_torchvision_mobilenet_v2(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """torchvision MobileNetV2 -> mmseg ``MobileNetV2`` + ``conv2``
    (``MobileNetV2Encoder.body``).

    * ``features.0.0`` / ``features.0.1`` (stem conv / BN) -> ``conv1.conv``
      / ``conv1.bn``;
    * ``features.i`` (i = 1..17, the inverted residuals) -> ``layerL.J``
      (1, 2, 3, 4, 3, 3, 1 blocks per layer). Inside a block with expansion
      ``conv.0.0/0.1`` (1x1 expand), ``conv.1.0/1.1`` (depthwise),
      ``conv.2`` / ``conv.3`` (1x1 project + BN) -> ``conv.0.conv/bn``,
      ``conv.1.conv/bn``, ``conv.2.conv/bn``; the expand-ratio-1 block
      (``features.1``) has ``conv.0.0/0.1`` (depthwise), ``conv.1`` /
      ``conv.2`` -> ``conv.0.conv/bn``, ``conv.1.conv/bn``;
    * ``features.18.0/18.1`` (1x1 conv to 1280 + BN) -> ``conv2.conv/bn``;
    * ``classifier.*`` is dropped.

    Keys that fit none of these are kept as they are (and then reported as
    unexpected by the loader).
    """
    blocks = _mbv2_block_names()
    last = len(blocks) + 1  # 18
    out = OrderedDict()
    for key, v in state_dict.items():
        if key.startswith('classifier.'):
            continue
        m = re.match(r'features\.(\d+)\.(.*)$', key)
        if not m:
            out[key] = v
            continue
        i, rest = int(m.group(1)), m.group(2)
        if i in (0, last):
            name = 'conv1' if i == 0 else 'conv2'
            mm = re.match(r'([01])\.(.*)$', rest)
            if mm:
                out[f'{name}.{("conv", "bn")[int(mm.group(1))]}.'
                    f'{mm.group(2)}'] = v
            else:
                out[key] = v
            continue
        if not 1 <= i <= len(blocks):
            out[key] = v
            continue
        expands = f'features.{i}.conv.3.weight' in state_dict
        mm = re.match(r'conv\.(\d+)\.(?:(\d+)\.)?(.*)$', rest)
        if not mm:
            out[key] = v
            continue
        j, sub, leaf = int(mm.group(1)), mm.group(2), mm.group(3)
        # (torchvision index, sub-index) -> (mmseg conv index, conv/bn)
        if expands:
            table = {
                (0, '0'): (0, 'conv'),
                (0, '1'): (0, 'bn'),
                (1, '0'): (1, 'conv'),
                (1, '1'): (1, 'bn'),
                (2, None): (2, 'conv'),
                (3, None): (2, 'bn')
            }
        else:
            table = {
                (0, '0'): (0, 'conv'),
                (0, '1'): (0, 'bn'),
                (1, None): (1, 'conv'),
                (2, None): (1, 'bn')
            }
        target = table.get((j, sub))
        if target is None:
            out[key] = v
            continue
        out[f'{blocks[i - 1]}.conv.{target[0]}.{target[1]}.{leaf}'] = v
    return out


def convert_lukemelas_efficientnet(
        state_dict: Dict[str, torch.Tensor],
        block_names: Sequence[str]) -> Dict[str, torch.Tensor]:
    """lukemelas EfficientNet-PyTorch -> mmdet ``EfficientNet``
    (``EfficientNetEncoder.body``).

    Args:
        state_dict: ``_conv_stem``, ``_bn0``, ``_blocks.N.*``,
            ``_conv_head``, ``_bn1``, ``_fc``.
        block_names (Sequence[str]): mmdet's name of lukemelas' block ``N``
            (``'layers.L.J'``), in order (blocks are numbered the same way
            in both, mmdet groups them into other layers;
            ``EfficientNetEncoder.block_names``).

    ``_conv_stem`` / ``_bn0`` -> ``layers.0.conv`` / ``layers.0.bn``;
    in ``_blocks.N``: ``_expand_conv`` / ``_bn0`` -> ``expand_conv.conv/bn``
    (absent for expand ratio 1), ``_depthwise_conv`` / ``_bn1`` ->
    ``depthwise_conv.conv/bn``, ``_se_reduce`` / ``_se_expand`` ->
    ``se.conv1.conv`` / ``se.conv2.conv``, ``_project_conv`` / ``_bn2`` ->
    ``linear_conv.conv/bn``. The head (``_conv_head``, top-level ``_bn1``)
    and the classifier (``_fc``) are dropped. Keys that fit none of these
    (a block number beyond ``block_names``) are kept as they are.
    """
    out = OrderedDict()
    for key, v in state_dict.items():
        if key.startswith(('_conv_head.', '_bn1.', '_fc.')):
            continue
        if key.startswith('_conv_stem.'):
            out['layers.0.conv.' + key[len('_conv_stem.'):]] = v
            continue
        if key.startswith('_bn0.'):
            out['layers.0.bn.' + key[len('_bn0.'):]] = v
            continue
        m = re.match(r'_blocks\.(\d+)\.(.*)$', key)
        if m and int(m.group(1)) < len(block_names):
            rest = m.group(2)
            for src, dst in _EFFNET_BLOCK_KEYS.items():
                if rest.startswith(src):
                    out[f'{block_names[int(m.group(1))]}.{dst}'
                        f'{rest[len(src):]}'] = v
                    break
            else:
                out[key] = v
            continue
        out[key] = v
    return out


def convert_to_encoder(state_dict: Dict[str, torch.Tensor], layout: str,
                       encoder) -> Dict[str, torch.Tensor]:
    """Convert ``state_dict`` in ``layout`` to ``encoder.body``'s keys."""
    if layout == 'torchvision_resnet':
        return convert_torchvision_resnet(state_dict)
    if layout == 'torchvision_mobilenet_v2':
        return convert_torchvision_mobilenet_v2(state_dict)
    if layout == 'lukemelas_efficientnet':
        return convert_lukemelas_efficientnet(state_dict, encoder.block_names)
    return OrderedDict(state_dict)


def compare_with_body(
    encoder, converted: Dict[str, torch.Tensor]
) -> Tuple[List[str], List[tuple], List[str], List[str]]:
    """``(missing, mismatched, unexpected, unbuilt)``: body tensors absent
    from ``converted`` (BN's ``num_batches_tracked`` counters excepted),
    ``(name, file shape, encoder shape)`` of those with other shapes, file
    tensors the body lacks, and file tensors of modules the encoder does not
    build (``encoder.unbuilt_prefixes``: levels deeper than requested),
    which are allowed."""
    own = encoder.body.state_dict()
    prefixes = tuple(p + '.' for p in getattr(encoder, 'unbuilt_prefixes', ()))
    missing = [
        k for k in own
        if k not in converted and not k.endswith('num_batches_tracked')
    ]
    mismatched = [
        (k, tuple(converted[k].shape), tuple(v.shape)) for k, v in own.items()
        if k in converted and tuple(converted[k].shape) != tuple(v.shape)
    ]
    extra = [k for k in converted if k not in own]
    unbuilt = [k for k in extra if prefixes and k.startswith(prefixes)]
    unexpected = [
        k for k in extra if not (prefixes and k.startswith(prefixes))
    ]
    return missing, mismatched, unexpected, unbuilt


def load_pretrained_weights(encoder,
                            filename: str,
                            map_location='cpu') -> dict:
    """Load ImageNet (or other) weights into ``encoder.body``, strictly.

    Args:
        encoder (StagedEncoder): A built encoder (``body``,
            ``imagenet_layout``, ``unbuilt_prefixes``; EfficientNet also
            ``block_names``).
        filename (str): A local file or a ``torchvision://``,
            ``open-mmlab://``, ``http(s)://`` URI; a published file (see
            :data:`LAYOUTS`), a checkpoint in the encoder's own layout, or
            either wrapped in ``state_dict`` / ``model``.
        map_location: As for :func:`torch.load`.

    Returns:
        dict: ``file``, ``layout``, ``loaded`` (number of tensors),
        ``dropped`` (classifier/head tensors left out), ``unbuilt`` (tensors
        of levels the encoder does not build).

    Raises:
        CheckpointMismatchError: the file is another network's (layout of
            another encoder family, missing, unexpected or mismatched
            tensors); nothing is loaded then.
        UntrustedCheckpointError: the file holds more than tensors (see
            ``--trust-checkpoint``).
    """
    name = type(encoder).__name__
    if not is_remote(filename):
        filename = osp.expanduser(str(filename))
    checkpoint = read_checkpoint(filename, map_location=map_location)
    try:
        state_dict = tensors_of(checkpoint)
    except CheckpointError as e:
        raise CheckpointMismatchError(f'{filename}: {e}') from None
    if not state_dict:
        raise CheckpointMismatchError(f'{filename}: holds no tensors')
    layout = detect_layout(state_dict)
    expected = getattr(encoder, 'imagenet_layout', None)
    if layout != 'encoder' and layout != expected:
        what = (f'its ImageNet weights come in the {LAYOUTS[expected]} '
                'layout' if expected else 'it has no published ImageNet '
                'weights (only checkpoints in its own layout load)')
        raise CheckpointMismatchError(
            f'{filename} is a {LAYOUTS[layout]} checkpoint and cannot '
            f'initialise {name}: {what}.')
    converted = convert_to_encoder(state_dict, layout, encoder)
    dropped = len(state_dict) - len(converted)
    missing, mismatched, unexpected, unbuilt = compare_with_body(
        encoder, converted)
    if missing or mismatched or unexpected:
        n_own = sum(1 for k in encoder.body.state_dict()
                    if not k.endswith('num_batches_tracked'))
        parts = [
            f'{len(missing)} of the encoder\'s {n_own} tensors missing' +
            (f' ({_examples(missing)})' if missing else '')
        ]
        shown = [
            f'{k}: {a} in the file vs {b} in the encoder'
            for k, a, b in mismatched
        ]
        parts.append(f'{len(mismatched)} with other shapes' +
                     (f' ({_examples(shown, 2)})' if shown else ''))
        parts.append(f'{len(unexpected)} of the file\'s tensors not in the '
                     'encoder' +
                     (f' ({_examples(unexpected)})' if unexpected else ''))
        hint = (' The file\'s layout was not recognised (expected '
                f'{LAYOUTS[expected]} or the encoder\'s own).'
                if layout == 'encoder' and expected else '')
        raise CheckpointMismatchError(
            f'{filename} does not fit {name}'
            f'{_arch_of(encoder)} (read as {LAYOUTS[layout]}): ' +
            '; '.join(parts) + f'.{hint} Nothing was loaded: is it the '
            'weights of this network and variant?')
    own = encoder.body.state_dict()
    result = encoder.body.load_state_dict(
        {
            k: v
            for k, v in converted.items() if k in own
        }, strict=False)
    left = [
        k for k in result.missing_keys if not k.endswith('num_batches_tracked')
    ]
    if left or result.unexpected_keys:  # cannot happen after the check
        raise CheckpointMismatchError(
            f'{filename}: load_state_dict left {_examples(left)} unset')
    loaded = sum(1 for k in converted if k in own)
    print_log(
        f'{name}{_arch_of(encoder)}: loaded {loaded} tensors from '
        f'{filename} ({LAYOUTS[layout]}' +
        (f'; {dropped} classifier/head tensors left out' if dropped else '') +
        (f'; {len(unbuilt)} of levels not built left out' if unbuilt else '') +
        ')',
        logger='current')
    return dict(
        file=filename,
        layout=layout,
        loaded=loaded,
        dropped=dropped,
        unbuilt=len(unbuilt))


def _arch_of(encoder) -> str:
    for attr in ('depth', 'arch'):
        v = getattr(encoder, attr, None)
        if v is not None:
            return f' ({attr}={v})'
    return ''
