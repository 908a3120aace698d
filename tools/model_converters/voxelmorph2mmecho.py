# Copyright (c) mmecho contributors. All rights reserved.
"""Convert a VoxelMorph (PyTorch) ``VxmDense`` into an mmecho checkpoint.

    python tools/model_converters/voxelmorph2mmecho.py IN.pt OUT.pth \
        [--config configs/mnms/voxelmorph_mnms_vxm-weights.py] \
        [--cfg-options KEY=VALUE ...] [--write-config NEW_CONFIG.py] \
        [--transpose]

Source: ``voxelmorph.networks.VxmDense`` of github.com/voxelmorph/voxelmorph
(commit ca28315, ``voxelmorph/torch/networks.py``, ``layers.py``,
``modelio.py``), 2D, as VoxelMorph's ``model.save(path)`` writes it
(``{'config': <the VxmDense arguments>, 'model_state': <state dict without
the SpatialTransformer grids>}``; ``scripts/torch/train.py`` saves every
epoch that way), or a plain state dict (``torch.save(model.state_dict())``,
also inside ``{'state_dict': ...}``; a DataParallel ``module.`` prefix is
removed). Target: ``VoxelMorphUNet`` as ``network`` of the config's
``VoxelMorphRegistrator`` / ``PairwiseRegistrator`` (keys
``network.<name>``).

Every source tensor is mapped or checked, none is dropped silently:

======================================  ===================================
VoxelMorph                              mmecho
======================================  ===================================
unet_model.encoder.{l}.0.main.          network.encoder.{l}.0.
unet_model.decoder.{l}.0.main.          network.decoder.{l}.0.
unet_model.remaining.{i}.main.          network.remaining.{i}.0.
flow.                                   network.flow.
transformer.grid (buffer)               checked, not stored (*)
integrate.transformer.grid (buffer)     checked, not stored (*)
======================================  ===================================

(*) ``model.save`` leaves both grids out; a plain ``state_dict()`` has them.
They must be VoxelMorph's identity grids (``meshgrid(arange(s))``, exact) of
shape ``(1, 2, *inshape)`` and ``(1, 2, *inshape / int_downsize)``; mmecho
builds the same grid from the input size at every call, so nothing is lost.
Without a saved config they tell the input shape, whether the model
integrates (``integrate`` exists only with ``int_steps > 0``) and
``int_downsize``.

The values are copied unchanged: mmecho's ``VoxelMorphUNet`` is VxmDense's
function. Its ``forward(fixed, moving)`` concatenates ``[moving, fixed]``,
VoxelMorph's ``[source, target]``; the field is VoxelMorph's ``pos_flow``
(``model(source, target, registration=True)``): displacement in pixels,
channel ``i`` along array dimension ``i`` (row, column), warping by
``moving(x + u(x))``, grid_sample with ``align_corners=True``; the velocity
is resized by 1/int_downsize (``ResizeTransform``), integrated by
``int_steps`` squarings (``VecInt``) and resized back; ``preint_flow`` is
VoxelMorph's ``preint_flow``. The one setting that differs is mmecho's
default ``border`` padding in the squarings; VoxelMorph samples zeros:
the target config must have ``integration_padding='zeros'``
(``configs/mnms/voxelmorph_mnms_vxm-weights.py``, the default).
``--transpose``: the model was trained on arrays whose first axis is
mmecho's column (e.g. NIfTI slices read with nibabel /
``vxm.py.utils.load_volfile``, x first; mmecho reads (row, column)); every
kernel is transposed and the flow channels swapped, which computes exactly
the VoxelMorph field of the transposed frames.

Checks (each error names the input file): the file loads with
``torch.load(weights_only=True)`` (a whole pickled model, or anything that
needs code to load, is refused and never executed); a 2D ``VxmDense`` of
what this converter supports (``nb_unet_conv_per_level = 1``, no
``unet_half_res``, no ``use_probs``, ``src_feats == trg_feats``); keys no
rule maps (another model) and missing or extra tensors are a ``KeyError``
naming them; the saved config agrees with the weights; the shapes fit the
config's model (``ValueError`` naming source and target key and both
shapes); the VoxelMorph settings agree with the config's network
(features, ``in_channels``, ``integration_steps``, ``int_downsize``,
``integration_padding``) and its dataloaders' frame ``size`` with
``inshape`` (VxmDense only runs at its inshape): a mismatch is an error that
lists the ``--cfg-options`` making them agree; ``--write-config`` writes a
config (a child of ``--config``) with the file's settings and converts for
it.
What the file cannot tell (a plain state dict without grids: inshape,
int_steps, int_downsize) is taken from the config, printed as a warning and
listed in ``meta['unverified']``. ``bidir`` models are converted (the same
weights); mmecho computes the forward field only.

Output: ``{'state_dict': ..., 'meta': ...}`` (tensors, strings, numbers),
written atomically, loadable by ``mmengine.runner.load_checkpoint`` and
``mmecho.engine.checkpoint.load_model_weights`` for that config (no
missing or unexpected keys); ``meta`` holds the VoxelMorph config, the
mmecho network arguments derived from it, the frame size, the config and
``--cfg-options`` used, what was done with each buffer, and the source's
SHA-256. Details: ``docs/registration.md``, "Bringing VoxelMorph weights".
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'mnms',
                          'voxelmorph_mnms_vxm-weights.py')
VXM_COMMIT = 'ca28315d0ba24cd8946ac4f6ed081e049e5264fe'
#: VxmDense's arguments at VXM_COMMIT (what ``store_config_args`` saves)
VXM_ARGS = ('inshape', 'nb_unet_features', 'nb_unet_levels', 'unet_feat_mult',
            'nb_unet_conv_per_level', 'int_steps', 'int_downsize', 'bidir',
            'use_probs', 'src_feats', 'trg_feats', 'unet_half_res')
VXM_DEFAULT_FEATURES = ([16, 32, 32, 32], [32, 32, 32, 32, 32, 16, 16])
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
GRIDS = ('transformer.grid', 'integrate.transformer.grid')

_WB = r'(weight|bias)'
RULES: List[Tuple[str, str]] = [
    (rf'unet_model\.encoder\.(\d+)\.0\.main\.{_WB}',
     r'network.encoder.\1.0.\2'),
    (rf'unet_model\.decoder\.(\d+)\.0\.main\.{_WB}',
     r'network.decoder.\1.0.\2'),
    (rf'unet_model\.remaining\.(\d+)\.main\.{_WB}',
     r'network.remaining.\1.0.\2'),
    (rf'flow\.{_WB}', r'network.flow.\1'),
]


def _where(src: str) -> str:
    return f' in {src}' if src else ''


def _plain(value):
    """numpy / tuple values of a saved config as Python ints, floats,
    lists (for comparisons and the checkpoint's meta)."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def map_key(key: str) -> Optional[str]:
    """mmecho name of VoxelMorph's ``key`` (None: no rule)."""
    for pattern, repl in RULES:
        if re.fullmatch(pattern, key):
            return re.sub(f'^{pattern}$', repl, key)
    return None


# -- reading the file ---------------------------------------------------------


def load_voxelmorph_file(path: str):
    """``(state_dict, config or None, format)`` from ``path``.

    Loaded with ``torch.load(weights_only=True)`` (plus numpy arrays and
    scalars, as mmecho's checkpoint loader allows): nothing in the file
    runs.

    Raises:
        ValueError: the file needs code to unpickle (e.g. a whole model
            saved with ``torch.save(model)``), or holds no state dict.
    """
    from mmecho.engine.checkpoint import (UntrustedCheckpointError,
                                          load_local_checkpoint)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    try:
        ckpt = load_local_checkpoint(path, map_location='cpu', trust=False)
    except UntrustedCheckpointError as e:
        found = re.search(r'holds (.+?), which is not', str(e))
        if found is None or 'see the unpickler message' in found.group(1):
            raise ValueError(
                f'{path} cannot be read by torch.load(weights_only=True): '
                'not a PyTorch file, or a damaged one (nothing executed)'
            ) from None
        raise ValueError(
            f'{path} cannot be loaded with torch.load(weights_only=True): it '
            f'holds {found.group(1) if found else "Python objects"}, which '
            'needs code to load (refused, nothing executed). A whole model '
            "pickled with torch.save(model) is not accepted: save it with "
            "VoxelMorph's model.save(path) (config + weights) or "
            'torch.save(model.state_dict(), path).') from None
    except RuntimeError as e:  # not a torch file at all
        raise ValueError(f'{path} is not a PyTorch file torch.load can '
                         f'read: {str(e).splitlines()[0]}') from None
    config, fmt = None, 'state_dict'
    if isinstance(ckpt, dict) and 'model_state' in ckpt:
        sd = ckpt['model_state']
        config = ckpt.get('config')
        fmt = 'LoadableModel.save' if config is not None else 'model_state'
        if config is not None and not isinstance(config, dict):
            raise ValueError(f"{path}: 'config' is a {type(config).__name__}"
                             ", not VxmDense's argument dict")
    elif isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        sd = ckpt['state_dict']
        fmt = "{'state_dict': ...}"
    else:
        sd = ckpt
    if not isinstance(sd, dict) or not sd:
        raise ValueError(
            f'{path} holds a {type(sd).__name__}, not a VoxelMorph model: '
            "expected model.save()'s {'config': ..., 'model_state': ...}, "
            "a state dict or {'state_dict': ...}")
    not_tensors = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(
            f'{path}: expected a VoxelMorph state dict (name -> tensor), but '
            f'{len(not_tensors)} entries are not tensors: {not_tensors[:10]}')
    if all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return dict(sd), (_plain(config) if config is not None else None), fmt


# -- what the file describes --------------------------------------------------


def voxelmorph_features(config: dict, src: str = '') -> Tuple[list, list]:
    """(encoder, decoder) features as VoxelMorph's ``Unet`` derives them
    from ``nb_unet_features`` / ``nb_unet_levels`` / ``unet_feat_mult`` /
    ``nb_unet_conv_per_level``."""
    nb = config.get('nb_unet_features')
    levels = config.get('nb_unet_levels')
    mult = config.get('unet_feat_mult', 1)
    per = config.get('nb_unet_conv_per_level', 1)
    if nb is None:
        nb = [list(f) for f in VXM_DEFAULT_FEATURES]
    if isinstance(nb, (int, float)) and not isinstance(nb, bool):
        if levels is None:
            raise ValueError(f'VoxelMorph config{_where(src)}: an integer '
                             'nb_unet_features needs nb_unet_levels')
        feats = np.round(nb * mult**np.arange(levels)).astype(int)
        enc = np.repeat(feats[:-1], per)
        dec = np.repeat(np.flip(feats), per)
        return [int(x) for x in enc], [int(x) for x in dec]
    if levels is not None:
        raise ValueError(f'VoxelMorph config{_where(src)}: nb_unet_levels is '
                         'only used with an integer nb_unet_features')
    if not (isinstance(nb, (list, tuple)) and len(nb) == 2):
        raise ValueError(f'VoxelMorph config{_where(src)}: nb_unet_features '
                         f'{nb!r} is not [[encoder], [decoder]]')
    return [int(x) for x in nb[0]], [int(x) for x in nb[1]]


def _identity_grid(shape) -> torch.Tensor:
    """VoxelMorph's SpatialTransformer grid for ``shape``."""
    grids = torch.meshgrid([torch.arange(0, s) for s in shape], indexing='ij')
    return torch.stack(grids)[None].float()


def describe_weights(sd: Dict[str, torch.Tensor], src: str = '') -> dict:
    """Architecture of a VxmDense state dict: ``ndims``, ``infeats``,
    ``enc``, ``dec`` and the grids it holds.

    Raises:
        KeyError: keys no rule maps (not a 2D VxmDense), or a layout mmecho
            does not have (several convs per level).
        ValueError: a 3D (or 1D) VxmDense.
    """
    if 'flow.weight' not in sd or 'unet_model.encoder.0.0.main.weight' \
            not in sd:
        raise KeyError(
            f'{src or "the state dict"} is not a VoxelMorph VxmDense state '
            "dict: expected 'unet_model.encoder.0.0.main.weight' and "
            f"'flow.weight', found {list(sd)[:8]}" +
            (' ...' if len(sd) > 8 else ''))
    ndims = sd['flow.weight'].dim() - 2
    if ndims != 2:
        raise ValueError(
            f'{src or "the state dict"} is a {ndims}D VxmDense (flow.weight '
            f'{tuple(sd["flow.weight"].shape)}, Conv{ndims}d); mmecho\'s '
            'VoxelMorphUNet is 2D: a 2D VxmDense (inshape of two sizes) is '
            'expected')
    extra_convs = sorted(
        k for k in sd if re.fullmatch(
            r'unet_model\.(encoder|decoder)\.\d+\.[1-9]\d*\..+', k))
    if extra_convs:
        raise KeyError(
            f'{src}: a VxmDense with several convolutions per U-Net level '
            f'(nb_unet_conv_per_level > 1: {extra_convs[:4]}); mmecho\'s '
            'VoxelMorphUNet has one (VoxelMorph\'s default)')
    unmapped = [k for k in sd if map_key(k) is None and k not in GRIDS]
    if unmapped:
        raise KeyError(
            f'{len(unmapped)} of {len(sd)} tensors{_where(src)} are not part '
            'of a 2D VoxelMorph VxmDense state dict (no mapping): '
            f'{unmapped[:20]}' + (' ...' if len(unmapped) > 20 else ''))

    def count(prefix, suffix):
        n = 0
        while f'{prefix}.{n}.{suffix}' in sd:
            n += 1
        return n

    n_enc = count('unet_model.encoder', '0.main.weight')
    n_dec = count('unet_model.decoder', '0.main.weight')
    n_rem = count('unet_model.remaining', 'main.weight')
    enc = [
        int(sd[f'unet_model.encoder.{i}.0.main.weight'].shape[0])
        for i in range(n_enc)
    ]
    dec = [
        int(sd[f'unet_model.decoder.{i}.0.main.weight'].shape[0])
        for i in range(n_dec)
    ]
    dec += [
        int(sd[f'unet_model.remaining.{i}.main.weight'].shape[0])
        for i in range(n_rem)
    ]
    infeats = int(sd['unet_model.encoder.0.0.main.weight'].shape[1])
    return dict(
        ndims=ndims,
        infeats=infeats,
        enc=enc,
        dec=dec,
        n_dec=n_dec,
        grids={k: tuple(sd[k].shape)
               for k in GRIDS if k in sd})


def check_grids(sd, inshape, int_steps, int_downsize, src=''):
    """VoxelMorph's grid buffers: identity grids of the expected shapes.
    Returns {buffer: what was done}."""
    done = {}
    for key in GRIDS:
        if key not in sd:
            done[key] = ('absent (model.save() leaves the grids out)'
                         if key == 'transformer.grid' or int_steps else
                         'absent (int_steps = 0: no VecInt)')
            continue
        grid = sd[key]
        if key == 'integrate.transformer.grid':
            if not int_steps:
                raise ValueError(f'{src}: {key} is present, but int_steps = 0 '
                                 '(VxmDense has no VecInt then)')
            shape = [int(d / int_downsize) for d in inshape]
        else:
            shape = list(inshape)
        expected = (1, len(shape), *shape)
        if tuple(grid.shape) != expected:
            raise ValueError(
                f'{src}: buffer {key} has shape {tuple(grid.shape)}, '
                f'VxmDense(inshape={tuple(inshape)}, int_downsize='
                f'{int_downsize}) has {expected}')
        if not torch.equal(grid.float(), _identity_grid(shape)):
            raise ValueError(
                f'{src}: buffer {key} is not VoxelMorph\'s identity grid '
                '(meshgrid of arange): the file was changed or is not a '
                'VxmDense')
        done[key] = (f'checked: the identity grid {expected}, as mmecho '
                     'builds it from the input size; not stored')
    return done


def derive_settings(sd, config, src='', defaults=None) -> dict:
    """VoxelMorph settings of the file, checked against its weights.

    ``defaults`` (the config's network) fills what a plain state dict
    cannot tell; those names are listed in ``unverified``.

    Returns dict(inshape (list or None), enc, dec, in_channels, int_steps,
    int_downsize, bidir, buffers, unverified, notes).
    """
    arch = describe_weights(sd, src)
    defaults = defaults or {}
    unverified, notes = [], []
    if config is not None:
        unknown = sorted(set(config) - set(VXM_ARGS))
        if unknown:
            raise ValueError(
                f'{src}: the saved config has arguments VxmDense does not '
                f'have at VoxelMorph {VXM_COMMIT[:7]}: {unknown} (another '
                'model, or a VoxelMorph version this converter does not '
                f'know; known: {list(VXM_ARGS)})')
        inshape = config.get('inshape')
        if inshape is None or len(inshape) != 2:
            raise ValueError(
                f'{src}: VxmDense was built with inshape={inshape!r}: '
                f'{len(inshape) if inshape else "?"}D; mmecho\'s '
                'VoxelMorphUNet is 2D (inshape of two sizes)')
        inshape = [int(s) for s in inshape]
        for name, ok in (('use_probs', False), ('unet_half_res', False)):
            if bool(config.get(name, False)) != ok:
                raise ValueError(
                    f'{src}: VxmDense with {name}=True is not supported '
                    f"(mmecho's VoxelMorphUNet has {name}=False" +
                    ('; VoxelMorph\'s PyTorch backend cannot build it '
                     'either)' if name == 'use_probs' else ')'))
        if int(config.get('nb_unet_conv_per_level', 1)) != 1:
            raise ValueError(
                f'{src}: nb_unet_conv_per_level='
                f'{config["nb_unet_conv_per_level"]}; mmecho\'s '
                'VoxelMorphUNet has one conv per level (VoxelMorph\'s '
                'default)')
        src_feats = int(config.get('src_feats', 1))
        trg_feats = int(config.get('trg_feats', 1))
        if src_feats != trg_feats:
            raise ValueError(
                f'{src}: src_feats={src_feats} != trg_feats={trg_feats}; '
                "mmecho's VoxelMorphUNet takes fixed and moving images with "
                'the same channels')
        enc, dec = voxelmorph_features(config, src)
        int_steps = int(config.get('int_steps', 7))
        int_downsize = int(config.get('int_downsize', 2))
        bidir = bool(config.get('bidir', False))
        got = dict(enc=arch['enc'], dec=arch['dec'], infeats=arch['infeats'])
        want = dict(enc=enc, dec=dec, infeats=src_feats + trg_feats)
        if got != want or arch['n_dec'] != len(enc):
            raise ValueError(
                f'{src}: the saved config and the weights disagree: config '
                f'enc {enc}, dec {dec}, src_feats + trg_feats '
                f'{src_feats + trg_feats}; weights enc {arch["enc"]}, dec '
                f'{arch["dec"]}, input channels {arch["infeats"]}')
        in_channels = src_feats
        if 'integrate.transformer.grid' in sd and not int_steps:
            raise ValueError(f'{src}: integrate.transformer.grid is present '
                             'but the config has int_steps = 0')
    else:
        enc, dec = arch['enc'], arch['dec']
        if arch['infeats'] % 2:
            raise ValueError(
                f'{src}: the first conv takes {arch["infeats"]} channels: '
                'not two images with the same channels (src_feats == '
                'trg_feats)')
        in_channels = arch['infeats'] // 2
        bidir = None
        grids = arch['grids']
        if 'transformer.grid' in grids:
            inshape = list(grids['transformer.grid'][2:])
            if len(inshape) != 2:
                raise ValueError(f'{src}: transformer.grid {grids} is not 2D')
            if 'integrate.transformer.grid' in grids:
                down = grids['integrate.transformer.grid'][2:]
                int_downsize = max(1, inshape[0] // max(down[0], 1))
                if [int(d / int_downsize) for d in inshape] != list(down):
                    raise ValueError(
                        f'{src}: integrate.transformer.grid {down} is no '
                        f'integer down-sizing of transformer.grid {inshape}')
                int_steps = int(defaults.get('integration_steps', 7))
                if int_steps == 0:
                    raise ValueError(
                        f'{src}: the model integrates (it has '
                        'integrate.transformer.grid) but a state dict does '
                        'not tell how many steps, and the config has '
                        'integration_steps=0: pass --cfg-options '
                        'model.network.integration_steps=N (VoxelMorph\'s '
                        'default: 7)')
                unverified.append(
                    f'int_steps (> 0 from the grids; the number, '
                    f'{int_steps}, from the config)')
            else:
                int_steps = 0
                int_downsize = int(defaults.get('int_downsize', 2))
        else:
            inshape = None
            int_steps = int(defaults.get('integration_steps', 7))
            int_downsize = int(defaults.get('int_downsize', 2))
            unverified += [
                'inshape (frame size not checked)',
                f'int_steps ({int_steps}, from the config)',
                f'int_downsize ({int_downsize}, from the config)'
            ]
        if 'integrate.transformer.grid' in grids and \
                'transformer.grid' not in grids:
            raise ValueError(f'{src}: integrate.transformer.grid without '
                             'transformer.grid')
    if len(dec) < len(enc):
        raise ValueError(f'{src}: {len(dec)} decoder features for '
                         f'{len(enc)} encoder levels')
    if inshape is not None:
        div = 2**len(enc)
        if any(s % div for s in inshape):
            raise ValueError(
                f'{src}: inshape {inshape} is not a multiple of {div} '
                f'({len(enc)} pooling levels), which mmecho\'s '
                'VoxelMorphUNet needs')
    buffers = check_grids(sd, inshape, int_steps, int_downsize, src) \
        if inshape is not None else {
            k: 'absent' for k in GRIDS}
    if bidir:
        notes.append(
            'bidir=True: the same weights; mmecho computes the forward '
            "field (VoxelMorph's pos_flow) and warps the moving image; "
            "VoxelMorph's second output (the fixed image warped by the "
            'integrated negative velocity) is not computed')
    return dict(
        inshape=inshape,
        enc=enc,
        dec=dec,
        in_channels=in_channels,
        int_steps=int_steps,
        int_downsize=int_downsize,
        bidir=bidir,
        buffers=buffers,
        unverified=unverified,
        notes=notes)


def network_args(settings: dict) -> dict:
    """mmecho ``VoxelMorphUNet`` arguments computing the file's VxmDense."""
    return dict(
        type='VoxelMorphUNet',
        in_channels=settings['in_channels'],
        enc_channels=list(settings['enc']),
        dec_channels=list(settings['dec']),
        integration_steps=settings['int_steps'],
        int_downsize=settings['int_downsize'],
        integration_padding='zeros')


def frame_size(settings: dict, transpose: bool) -> Optional[list]:
    s = settings['inshape']
    if s is None:
        return None
    return list(s[::-1]) if transpose else list(s)


# -- conversion ---------------------------------------------------------------


def convert(sd: Dict[str, torch.Tensor],
            transpose: bool = False,
            src: str = '') -> 'OrderedDict[str, torch.Tensor]':
    """VoxelMorph names -> mmecho names (``network.`` prefix); grids are
    left out (checked by :func:`check_grids`). ``transpose``: kernels
    transposed, flow channels swapped."""
    out = OrderedDict()
    unmapped = []
    for key, value in sd.items():
        if key in GRIDS:
            continue
        new = map_key(key)
        if new is None:
            unmapped.append(key)
            continue
        value = value.detach().cpu().clone()
        if transpose:
            if value.dim() == 4:
                value = value.transpose(-1, -2).contiguous()
            if key.startswith('flow.'):
                value = value[[1, 0]].contiguous()
        out[new] = value
    if unmapped:
        raise KeyError(
            f'{len(unmapped)} of {len(sd)} tensors{_where(src)} are not part '
            f'of a VoxelMorph VxmDense state dict (no mapping): '
            f'{unmapped[:20]}')
    return out


def check_fits(converted, target, src=''):
    """Every target tensor filled, nothing extra, every shape equal."""
    back = {}  # mmecho name -> VoxelMorph name
    for key in converted:
        m = re.fullmatch(r'network\.(encoder|decoder)\.(\d+)\.0\.(\w+)', key)
        r = re.fullmatch(r'network\.remaining\.(\d+)\.0\.(\w+)', key)
        if m:
            back[key] = f'unet_model.{m[1]}.{m[2]}.0.main.{m[3]}'
        elif r:
            back[key] = f'unet_model.remaining.{r[1]}.main.{r[2]}'
        else:
            back[key] = key[len('network.'):]
    missing = [k for k in target if k not in converted]
    extra = [k for k in converted if k not in target]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f'{len(missing)} tensors of the model are not in '
                         f'the VoxelMorph file: {missing[:20]}')
        if extra:
            parts.append(f'{len(extra)} VoxelMorph tensors have no place in '
                         'the model: ' +
                         str([f'{back[k]} -> {k}' for k in extra[:20]]))
        raise KeyError(f'VoxelMorph model{_where(src)} does not fit the '
                       'config\'s model: ' + '; '.join(parts))
    bad = [(k, tuple(converted[k].shape), tuple(target[k].shape))
           for k in target if converted[k].shape != target[k].shape]
    if bad:
        raise ValueError(
            f'VoxelMorph model{_where(src)} does not fit the config\'s model: '
            f'{len(bad)} shape mismatches (source -> target: file shape vs '
            'model shape): ' + '; '.join(f'{back[k]} -> {k}: {a} vs {b}'
                                         for k, a, b in bad[:20]))


# -- the mmecho side ----------------------------------------------------------


def build_target(config: str, cfg_options: Optional[dict] = None):
    """``(model, state_dict, cfg)`` of ``config`` (on CPU)."""
    from mmecho.utils import build_model_from_config
    model, cfg = build_model_from_config(config, cfg_options)
    return model, model.state_dict(), cfg


def _network(model, config):
    from mmecho.models.registrators.voxelmorph_unet import VoxelMorphUNet
    net = getattr(model, 'network', None)
    if not isinstance(net, VoxelMorphUNet):
        raise ValueError(
            f'{config}: model.network is {type(net).__name__}, not '
            'VoxelMorphUNet (a VoxelMorph config is needed, e.g. '
            f'{osp.relpath(DEFAULT_CONFIG, ROOT)})')
    return net


def network_settings(net) -> dict:
    """The built ``VoxelMorphUNet``'s settings (defaults included)."""
    return dict(
        in_channels=net.encoder[0][0].in_channels // 2,
        enc_channels=[b[0].out_channels for b in net.encoder],
        dec_channels=[
            b[0].out_channels for b in [*net.decoder, *net.remaining]
        ],
        integration_steps=net.integration_steps,
        int_downsize=net.int_downsize,
        integration_padding=net.integration_padding)


def config_differences(settings, net, cfg, transpose=False) -> List[tuple]:
    """``(what, VoxelMorph value, config value, cfg-option)`` for every
    setting where the config's model would compute another function."""
    want = network_args(settings)
    have = network_settings(net)
    diffs = []
    for key in ('in_channels', 'enc_channels', 'dec_channels',
                'integration_steps', 'int_downsize', 'integration_padding'):
        if key in ('int_downsize', 'integration_padding') and \
                want['integration_steps'] == 0:
            continue  # unused without integration (in both)
        if want[key] != have[key]:
            value = want[key]
            opt = (f'[{",".join(map(str, value))}]'
                   if isinstance(value, list) else value)
            diffs.append((f'model.network.{key}', want[key], have[key],
                          f'model.network.{key}={opt}'))
    size = frame_size(settings, transpose)
    if size is not None:
        for dl in DATALOADERS:
            ds = cfg.get(dl, {}).get('dataset', {}) if cfg.get(dl) else {}
            if 'size' in ds and list(ds['size']) != size:
                diffs.append((f'{dl}.dataset.size', size, list(ds['size']),
                              f'{dl}.dataset.size=[{size[0]},{size[1]}]'))
    return diffs


def write_child_config(path, base, settings, cfg, src, transpose=False):
    """A config inheriting ``base`` with the file's VoxelMorph settings."""
    from mmecho.utils import atomic_write_text
    args = network_args(settings)
    base, here = osp.abspath(base), osp.dirname(osp.abspath(path))
    # relative inside the repository (portable), absolute elsewhere
    rel = osp.relpath(base, here) if here.startswith(ROOT + os.sep) and \
        base.startswith(ROOT + os.sep) else base
    size = frame_size(settings, transpose)
    lines = [
        '# Written by tools/model_converters/voxelmorph2mmecho.py for',
        f'# {osp.basename(src)} (VoxelMorph VxmDense, inshape '
        f'{settings["inshape"]}{", transposed" if transpose else ""}): '
        'the network computes that',
        "# VxmDense's field (integration_padding='zeros': VoxelMorph's "
        'VecInt).',
        f'_base_ = [{rel!r}]',
        'model = dict(',
        '    network=dict(',
    ]
    for k, v in args.items():
        if k != 'type':
            v = tuple(v) if isinstance(v, list) else v
            lines.append(f'        {k}={v!r},')
    lines[-1] = lines[-1][:-1] + '))'
    if size is not None:
        for dl in DATALOADERS:
            if cfg.get(dl) and 'size' in cfg[dl].get('dataset', {}):
                lines.append(f'{dl} = dict(dataset=dict(size=({size[0]}, '
                             f'{size[1]})))')
    atomic_write_text(path, '\n'.join(lines) + '\n')


def _rel(path):
    p = osp.abspath(path)
    return osp.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else path


def convert_file(src: str,
                 dst: str,
                 config: str = DEFAULT_CONFIG,
                 cfg_options: Optional[dict] = None,
                 write_config: Optional[str] = None,
                 transpose: bool = False,
                 warn=None) -> dict:
    """Convert ``src`` for ``config``'s model (or for a child config written
    to ``write_config``) and save ``dst``. Returns a summary."""
    from mmecho.apis.mmode_inputs import file_sha256
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    sd, vxm_config, fmt = load_voxelmorph_file(src)
    model, target, cfg = build_target(config, cfg_options)
    net = _network(model, config)
    defaults = network_settings(net)
    settings = derive_settings(sd, vxm_config, src, defaults)
    diffs = config_differences(settings, net, cfg, transpose)
    used_config = config
    if write_config:
        write_child_config(write_config, config, settings, cfg, src, transpose)
        used_config = write_config
        model, target, cfg = build_target(write_config, cfg_options)
        net = _network(model, write_config)
        diffs = config_differences(settings, net, cfg, transpose)
    if diffs:
        raise ValueError(
            f'{src}: the VoxelMorph model (inshape {settings["inshape"]}'
            f'{", transposed" if transpose else ""}) and {config} differ in '
            f'{len(diffs)} settings, so the config\'s model would compute '
            'another function: ' +
            '; '.join(f'{w}: VoxelMorph {a} vs config {b}'
                      for w, a, b, _ in diffs) +
            '. Pass them as --cfg-options ' + ' '.join(o for *_, o in diffs) +
            ' (to this converter and to '
            'tools/train.py / tools/test.py), or --write-config NEW.py to '
            'write a config with them (needed by '
            'tools/generate_pseudo_labels.py and tools/mnms_benchmark.py, '
            'which take no --cfg-options)')
    converted = convert(sd, transpose, src)
    check_fits(converted, target, src)
    cast = sorted({
        str(v.dtype)
        for k, v in converted.items() if v.dtype != target[k].dtype
    })
    converted = OrderedDict(
        (k, v.to(target[k].dtype)) for k, v in converted.items())
    for item in settings['unverified']:
        warn(f'voxelmorph2mmecho: warning: {src} does not tell {item}')
    meta = dict(
        converted_from='VoxelMorph VxmDense, PyTorch backend '
        f'(github.com/voxelmorph/voxelmorph @ {VXM_COMMIT[:7]})',
        source_file=osp.basename(src),
        source_sha256=file_sha256(src),
        source_format=fmt,
        voxelmorph_config=vxm_config,
        inshape=settings['inshape'],
        transposed=bool(transpose),
        frame_size=frame_size(settings, transpose),
        mmecho_network=network_args(settings),
        config=_rel(used_config),
        cfg_options={
            str(k): _plain(v)
            for k, v in (cfg_options or {}).items()
        },
        buffers=settings['buffers'],
        unverified=settings['unverified'],
        notes=settings['notes'] +
        ([f'weights cast from {cast} to float32'] if cast else []),
        converter='tools/model_converters/voxelmorph2mmecho.py')
    from mmecho.utils import atomic_write
    with atomic_write(dst, 'wb') as f:
        torch.save({'state_dict': converted, 'meta': meta}, f)
    return dict(tensors=len(converted), config=used_config, meta=meta)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Convert a VoxelMorph (PyTorch) VxmDense to mmecho')
    parser.add_argument(
        'src', help="VoxelMorph file: model.save()'s .pt or a state dict")
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
        help='override config settings (e.g. '
        'test_dataloader.dataset.size=[160,160])')
    parser.add_argument(
        '--write-config',
        metavar='NEW_CONFIG',
        help='write a child config of --config with the file\'s '
        'VoxelMorph settings (network, frame size) here and convert for it')
    parser.add_argument(
        '--transpose',
        action='store_true',
        help='the VoxelMorph model was trained on arrays whose first axis '
        "is mmecho's column (e.g. NIfTI read with nibabel, x first)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        info = convert_file(args.src, args.dst, args.config, args.cfg_options,
                            args.write_config, args.transpose)
    except (KeyError, ValueError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f'voxelmorph2mmecho: {msg}', file=sys.stderr)
        return 1
    meta = info['meta']
    shape = (f'VoxelMorph inshape {meta["inshape"]}, frames '
             f'{meta["frame_size"]}'
             if meta['inshape'] else 'inshape unknown: frame size not checked')
    print(f'wrote {args.dst}: {info["tensors"]} tensors for {info["config"]}'
          f' ({shape})')
    if args.write_config:
        print(f'wrote {args.write_config}: use it with this checkpoint')
    if args.cfg_options:
        print('use the same --cfg-options with tools/train.py / '
              'tools/test.py')
    print('mmecho network: ' + repr(meta['mmecho_network']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
