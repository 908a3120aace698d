# Copyright (c) mmecho contributors. All rights reserved.
"""Convert a RAMEM (maYOLACT, UPANet V2) checkpoint into an mmecho checkpoint.

    python tools/model_converters/ramem2mmecho.py IN.pth OUT.pth \
        [--config configs/meis/mayolact_upanet80_meis_ramem-weights.py]
        [--cfg-options KEY=VALUE ...]

Source: the state dict of ``Yolact`` in github.com/hanktseng131415go/RAMEM
(commit 7b880cc, ``modules/yolact.py``, ``modules/upanets_v2.py``), e.g. the
released ``best_47.145_upanet80_meis_21295.pth`` (a bare state dict, as
``utils/common_utils.save_best`` writes it; a dict with ``state_dict`` or
``model`` is accepted too, as is a ``module.`` prefix). Target: mmecho's
MaYOLACT (``mmdet.YOLACT`` + ``UPANetV2`` + ``mmdet.FPN``/``RAMEMFPN`` +
``MaYOLACTHead`` + ``PaddingAwareYOLACTProtonet``) of the config.

Every source tensor is mapped, none is dropped (RAMEM's anchors are a Python
list, not a buffer, and the released file holds nothing else):

=====================================  =====================================
RAMEM                                  mmecho
=====================================  =====================================
backbone.root.                         backbone.stem.
backbone.layer{n}.{b}.                 backbone.stages.{n-1}.{b}.
  cnn.{i}.conv / .bn / .act              conv.{i}.0 / .1 / .2
  att.c_ffc                              panel.transition
  att.sc_x_downsample.conv / .bn / .act  panel.shortcut.0 / .1 / .2
  att.s_ffc.0 / .1 (local)               panel.dw / panel.pw
  att.s_ffc.2 / .3 / .4 (GN, BN, PReLU)  panel.norm_act.0 / .1 / .2
  att.s_ffc (attention: depth-wise)      panel.dw
  att.s_ffcq / k / v                     panel.attention.q / k / v
  att.s_ffcx                             panel.pw
  att.act.0 / .1 / .2                    panel.norm_act.0 / .1 / .2
fpn.lat_layers.{i}                     neck.lateral_convs.{i}.conv
fpn.pred_layers.{i}.0                  neck.fpn_convs.{i}.conv
fpn.downsample_layers.{j}.0            neck.fpn_convs.{3+j}.conv
prediction_layers.upfeature.0          bbox_head.head_convs.0.conv
prediction_layers.conf_layer           bbox_head.conv_cls       (permuted)
prediction_layers.bbox_layer           bbox_head.conv_reg
prediction_layers.coef_layer.0         bbox_head.conv_coeff
proto_net.proto1.{0,2,4}               mask_head.protonet.{0,2,4}
proto_net.proto2.0 / .2                mask_head.protonet.8 / .10
semantic_seg_conv                      mask_head.segm_branch.segm_conv (perm.)
=====================================  =====================================

Two tensors are permuted, nothing else changes a value:

* ``conf_layer``: RAMEM's softmax has the background in column 0 and class k
  (``config.AMEISM_CLASSES[k - 1]``: IVS, LVPW, LA, AoR, the order of
  mmecho's ``MEISDataset``) in column k; mmdet has the classes first and the
  background last. Per anchor, mmecho column j = RAMEM column j + 1, mmecho
  column K = RAMEM column 0.
* ``semantic_seg_conv`` (a training-only auxiliary branch): RAMEM's target
  for a 0-based class c is channel c, mmdet's YOLACT protonet writes it to
  channel c - 1 (``gt_labels - 1`` on 0-based labels, so class 0 lands on
  the last channel); mmecho channel j = RAMEM channel (j + 1) mod K keeps
  the target each channel was trained on.

Errors: a source key that no rule maps (another model, e.g. a ResNet-50
state dict) is a ``KeyError`` naming the keys and the input file; a mapped
state dict that misses target tensors or has extra ones is a ``KeyError``,
one whose shapes differ from the config's model a ``ValueError`` naming
each key (source and target name) and both shapes. The input is loaded with
``torch.load(weights_only=True)``: a pickle that needs code to load is
refused, never executed.

The written file is ``{'state_dict': ..., 'meta': ...}`` (tensors, strings,
numbers), loadable by ``mmecho.engine.checkpoint.load_model_weights`` and
``verify_checkpoint`` for that config. The released weights need
``configs/meis/mayolact_upanet80_meis_ramem-weights.py`` (RAMEM's FPN
activations and prior centres; see ``docs/amem.md``, "Using RAMEM's released
weights").
"""
import argparse
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'meis',
                          'mayolact_upanet80_meis_ramem-weights.py')
RAMEM_COMMIT = '7b880cc3012751a889038cd3eaf522642538ecca'
#: RAMEM's classes (config.AMEISM_CLASSES), conf columns 1..4
RAMEM_CLASSES = ('IVS', 'LVPW', 'LA', 'AoR')

_PARAM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'

#: block-internal rules: RAMEM suffix (after ``backbone.<block>.``) -> mmecho
_BLOCK_RULES: List[Tuple[str, str]] = [
    (r'cnn\.(\d+)\.conv\.weight', r'conv.\1.0.weight'),
    (rf'cnn\.(\d+)\.bn\.{_PARAM}', r'conv.\1.1.\2'),
    (r'cnn\.(\d+)\.act\.weight', r'conv.\1.2.weight'),
    (r'att\.c_ffc\.weight', r'panel.transition.weight'),
    (r'att\.sc_x_downsample\.conv\.weight', r'panel.shortcut.0.weight'),
    (rf'att\.sc_x_downsample\.bn\.{_PARAM}', r'panel.shortcut.1.\1'),
    (r'att\.sc_x_downsample\.act\.weight', r'panel.shortcut.2.weight'),
    # local panel (dense blocks, stem, stage 1): Sequential(dw, pw, GN, BN,
    # PReLU)
    (r'att\.s_ffc\.0\.weight', r'panel.dw.weight'),
    (r'att\.s_ffc\.1\.weight', r'panel.pw.weight'),
    (r'att\.s_ffc\.2\.(weight|bias)', r'panel.norm_act.0.\1'),
    (rf'att\.s_ffc\.3\.{_PARAM}', r'panel.norm_act.1.\1'),
    (r'att\.s_ffc\.4\.weight', r'panel.norm_act.2.weight'),
    # global panel attention (stride-2 blocks of stages 2-4)
    (r'att\.s_ffc\.weight', r'panel.dw.weight'),
    (r'att\.s_ffc([qkv])\.weight', r'panel.attention.\1.weight'),
    (r'att\.s_ffcx\.weight', r'panel.pw.weight'),
    (r'att\.act\.(0|2)\.weight', r'panel.norm_act.\1.weight'),
    (r'att\.act\.0\.bias', r'panel.norm_act.0.bias'),
    (rf'att\.act\.1\.{_PARAM}', r'panel.norm_act.1.\1'),
]

_WB = r'(weight|bias)'
_HEAD_RULES: List[Tuple[str, str]] = [
    (rf'fpn\.lat_layers\.(\d+)\.{_WB}', r'neck.lateral_convs.\1.conv.\2'),
    (rf'fpn\.pred_layers\.(\d+)\.0\.{_WB}', r'neck.fpn_convs.\1.conv.\2'),
    (rf'prediction_layers\.upfeature\.0\.{_WB}',
     r'bbox_head.head_convs.0.conv.\1'),
    (rf'prediction_layers\.conf_layer\.{_WB}', r'bbox_head.conv_cls.\1'),
    (rf'prediction_layers\.bbox_layer\.{_WB}', r'bbox_head.conv_reg.\1'),
    (rf'prediction_layers\.coef_layer\.0\.{_WB}', r'bbox_head.conv_coeff.\1'),
    (rf'proto_net\.proto1\.([024])\.{_WB}', r'mask_head.protonet.\1.\2'),
    (rf'proto_net\.proto2\.0\.{_WB}', r'mask_head.protonet.8.\1'),
    (rf'proto_net\.proto2\.2\.{_WB}', r'mask_head.protonet.10.\1'),
    (rf'semantic_seg_conv\.{_WB}', r'mask_head.segm_branch.segm_conv.\1'),
]

_BLOCK_PREFIX = re.compile(r'backbone\.(root|layer([1-4])\.(\d+))\.(.+)')
_DOWNSAMPLE = re.compile(r'fpn\.downsample_layers\.(\d+)\.0\.(weight|bias)')


def _map_key(key: str) -> Optional[str]:
    """mmecho name of RAMEM's ``key``, or None when no rule applies."""
    m = _BLOCK_PREFIX.fullmatch(key)
    if m:
        block = ('stem' if m.group(1) == 'root' else
                 f'stages.{int(m.group(2)) - 1}.{m.group(3)}')
        for pattern, repl in _BLOCK_RULES:
            if re.fullmatch(pattern, m.group(4)):
                return f'backbone.{block}.' + re.sub(
                    f'^{pattern}$', repl, m.group(4))
        return None
    m = _DOWNSAMPLE.fullmatch(key)
    if m:
        return f'neck.fpn_convs.{3 + int(m.group(1))}.conv.{m.group(2)}'
    for pattern, repl in _HEAD_RULES:
        if re.fullmatch(pattern, key):
            return re.sub(f'^{pattern}$', repl, key)
    return None


def _where(src: str) -> str:
    return f' in {src}' if src else ''


def _conf_permutation(channels: int, num_classes: int) -> torch.Tensor:
    """Index ``p`` with ``new = old[p]`` for conf_layer's output channels
    (A anchors x (K + 1) columns, background first -> background last)."""
    k1 = num_classes + 1
    if channels % k1:
        raise ValueError(f'conf_layer has {channels} output channels, not a '
                         f'multiple of num_classes + 1 = {k1}')
    per_anchor = list(range(1, k1)) + [0]
    return torch.tensor([a * k1 + c for a in range(channels // k1)
                         for c in per_anchor])


def convert(state_dict: Dict[str, torch.Tensor],
            num_classes: Optional[int] = None,
            src: str = '') -> 'OrderedDict[str, torch.Tensor]':
    """RAMEM ``Yolact`` state dict -> mmecho MaYOLACT state dict.

    Args:
        state_dict: RAMEM's ``net.state_dict()`` (a ``module.`` prefix on
            every key is removed).
        num_classes: K, the foreground classes; by default the output
            channels of ``semantic_seg_conv`` (K), else conf_layer's - 1.
        src: the input file, for error messages.

    Raises:
        KeyError: keys no rule maps (not a RAMEM UPANet/YOLACT state dict),
            or two keys mapped onto one.
    """
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError(f'expected a non-empty state dict{_where(src)}, got '
                         f'{type(state_dict).__name__}')
    keys = list(state_dict)
    if all(k.startswith('module.') for k in keys):
        state_dict = {k[len('module.'):]: v for k, v in state_dict.items()}
    not_tensors = [k for k, v in state_dict.items()
                   if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(f'{len(not_tensors)} entries are not tensors'
                         f'{_where(src)}: {not_tensors[:10]}')
    if num_classes is None:
        if 'semantic_seg_conv.weight' in state_dict:
            num_classes = state_dict['semantic_seg_conv.weight'].shape[0]
        elif 'prediction_layers.conf_layer.weight' in state_dict:
            num_classes = (
                state_dict['prediction_layers.conf_layer.weight'].shape[0] - 1)
    out = OrderedDict()
    source_of = {}
    unmapped = []
    for key, value in state_dict.items():
        new = _map_key(key)
        if new is None:
            unmapped.append(key)
            continue
        if new in out:
            raise KeyError(f'{source_of[new]!r} and {key!r} both map to '
                           f'{new!r}{_where(src)}')
        value = value.detach().cpu().clone()
        if key.startswith('prediction_layers.conf_layer.'):
            value = value[_conf_permutation(value.shape[0], num_classes)]
        elif key.startswith('semantic_seg_conv.'):
            k = value.shape[0]
            value = value[(torch.arange(k) + 1) % k]
        out[new] = value
        source_of[new] = key
    if unmapped:
        raise KeyError(
            f'{len(unmapped)} of {len(state_dict)} tensors{_where(src)} are '
            'not part of a RAMEM UPANet/YOLACT state dict (no mapping): '
            f'{unmapped[:20]}' + (' ...' if len(unmapped) > 20 else ''))
    return out


def source_names(state_dict: Dict[str, torch.Tensor]) -> Dict[str, str]:
    """{mmecho name: RAMEM name} of the keys that :func:`convert` maps."""
    names = {}
    for key in state_dict:
        plain = key[len('module.'):] if key.startswith('module.') else key
        new = _map_key(plain)
        if new is not None:
            names[new] = key
    return names


def check_fits(converted: Dict[str, torch.Tensor],
               target: Dict[str, torch.Tensor],
               src: str = '',
               source_names: Optional[Dict[str, str]] = None) -> None:
    """Every target tensor filled, nothing extra, every shape equal.

    Raises:
        KeyError: target keys not filled or converted keys the model lacks.
        ValueError: shape mismatches (source name, target name, shapes).
    """
    names = source_names or {}
    missing = [k for k in target if k not in converted]
    extra = [k for k in converted if k not in target]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f'{len(missing)} tensors of the model are not in '
                         f'the converted state dict: {missing[:20]}')
        if extra:
            parts.append(f'{len(extra)} converted tensors have no place in '
                         'the model: ' + str([
                             f'{names.get(k, k)} -> {k}' for k in extra[:20]
                         ]))
        raise KeyError(f'RAMEM checkpoint{_where(src)} does not fit the '
                       'model: ' + '; '.join(parts))
    bad = [(k, tuple(converted[k].shape), tuple(target[k].shape))
           for k in target if converted[k].shape != target[k].shape]
    if bad:
        raise ValueError(
            f'RAMEM checkpoint{_where(src)} does not fit the model: '
            f'{len(bad)} shape mismatches (source -> target: checkpoint '
            'shape vs model shape): ' + '; '.join(
                f'{names.get(k, "?")} -> {k}: {a} vs {b}'
                for k, a, b in bad[:20]))


def convert_for(state_dict: Dict[str, torch.Tensor],
                target: Dict[str, torch.Tensor],
                num_classes: Optional[int] = None,
                src: str = '') -> 'OrderedDict[str, torch.Tensor]':
    """:func:`convert`, then :func:`check_fits` against ``target`` (the
    model's state dict)."""
    converted = convert(state_dict, num_classes=num_classes, src=src)
    check_fits(converted, target, src=src,
               source_names=source_names(state_dict))
    return converted


def load_ramem_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """RAMEM's state dict from ``path`` (``torch.load(weights_only=True)``).

    Accepts a bare state dict or a dict with ``state_dict``/``model``.

    Raises:
        ValueError: the file needs code to unpickle (refused, not run), or
            holds no state dict.
    """
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        why = [
            line.strip() for line in str(e).splitlines()
            if 'Unsupported' in line or 'WeightsUnpickler' in line
        ]
        raise ValueError(
            f'{path} cannot be loaded with torch.load(weights_only=True): it '
            'holds Python objects that need code to load, which this '
            'converter does not run (refused, nothing executed). RAMEM '
            'checkpoints are plain state dicts; re-save only the tensors.' +
            (f' ({why[0]})' if why else '')) from None
    from mmecho.engine.checkpoint import CheckpointError, state_dict_of
    try:
        return state_dict_of(ckpt)
    except CheckpointError:
        raise ValueError(f'{path} holds a {type(ckpt).__name__}, not a state '
                         'dict') from None


def build_target_state(config: str, cfg_options: Optional[dict] = None):
    """The config's model (on CPU), its state dict and the config."""
    from mmecho.utils import build_model_from_config
    model, cfg = build_model_from_config(config, cfg_options)
    return model, model.state_dict(), cfg


def convert_file(src: str,
                 dst: str,
                 config: str = DEFAULT_CONFIG,
                 cfg_options: Optional[dict] = None) -> Dict[str, list]:
    """Convert ``src`` for ``config``'s model and save ``dst``."""
    state = load_ramem_state_dict(src)
    _, target, cfg = build_target_state(config, cfg_options)
    num_classes = cfg.model.bbox_head.num_classes
    converted = convert_for(state, target, num_classes, src)
    # keep the model's dtypes (num_batches_tracked is int64 in both)
    converted = OrderedDict(
        (k, v.to(target[k].dtype)) for k, v in converted.items())
    from mmecho.apis.mmode_inputs import file_sha256
    sha = file_sha256(src)
    meta = dict(
        converted_from='RAMEM (github.com/hanktseng131415go/RAMEM @ '
        f'{RAMEM_COMMIT[:7]})',
        source_file=osp.basename(src),
        source_sha256=sha,
        config=osp.relpath(config, ROOT)
        if osp.abspath(config).startswith(ROOT) else config,
        converter='tools/model_converters/ramem2mmecho.py',
        dataset_meta=dict(classes=list(RAMEM_CLASSES)))
    from mmecho.utils import atomic_write
    with atomic_write(dst, 'wb') as f:
        torch.save({'state_dict': converted, 'meta': meta}, f)
    return dict(tensors=len(converted))


@torch.no_grad()
def mmecho_outputs_in_ramem_layout(model, image_bgr) -> dict:
    """mmecho's data preprocessor and network on one BGR uint8 image
    (H x W x 3, array or tensor, as mmcv loads it), arranged as RAMEM's
    network returns them, for parity checks: per level ``conf`` (HW, K + 1)
    with the background column first, ``box`` (HW, 4), ``coef`` (HW, 32);
    ``fpn`` (C, h, w) per level; ``proto`` (h, w, 32); ``seg`` (K, h, w) in
    RAMEM's channel order; ``input`` the normalised (1, 3, H, W) batch."""
    from mmdet.structures import DetDataSample
    image = torch.as_tensor(image_bgr)
    h, w = image.shape[:2]
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
    x = model.data_preprocessor(
        dict(inputs=[image.permute(2, 0, 1)], data_samples=[sample]),
        False)['inputs']
    feats = model.neck(model.backbone(x))
    cls, reg, coef = model.bbox_head(feats)
    k = model.bbox_head.num_classes
    flat = [c[0].permute(1, 2, 0).reshape(-1, k + 1) for c in cls]
    return dict(
        input=x,
        conf=[torch.cat([c[:, k:], c[:, :k]], 1) for c in flat],
        box=[r[0].permute(1, 2, 0).reshape(-1, 4) for r in reg],
        coef=[c[0].permute(1, 2, 0).reshape(-1, 32) for c in coef],
        fpn=[f[0] for f in feats],
        proto=model.mask_head.protonet(feats[0])[0].permute(1, 2, 0),
        # mmecho channel j = RAMEM channel (j + 1) mod K: undo for RAMEM's
        seg=model.mask_head.segm_branch(feats[0])[0][(torch.arange(k) - 1) %
                                                     k])


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Convert a RAMEM (UPANet V2 maYOLACT) checkpoint to '
        'mmecho')
    parser.add_argument('src', help='RAMEM checkpoint (.pth)')
    parser.add_argument('dst', help='output mmecho checkpoint (.pth)')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='mmecho config whose model the weights must fill (default: '
        '%(default)s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (e.g. model.backbone.width=16)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        info = convert_file(args.src, args.dst, args.config, args.cfg_options)
    except (KeyError, ValueError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f'ramem2mmecho: {msg}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}: {info["tensors"]} tensors for {args.config}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
