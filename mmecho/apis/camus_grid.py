# Copyright (c) mmecho contributors. All rights reserved.
"""The CAMUS benchmark grid: nine architectures x eleven encoders.

Leaf configs live at ``configs/camus/{arch}/{arch}_{encoder}_camus.py``
(``{arch}_camus.py`` for the plain encoder) and only compose an
architecture base (``configs/_base_/models/camus/{arch}.py``), an encoder
base (``configs/_base_/encoders/{file}.py``), the CAMUS data, schedule and
runtime; ``tools/misc/generate_camus_grid_configs.py`` writes them from the
tables below.

ImageNet initialisation (the thesis's): :data:`IMAGENET_FILES` names the
published weights of each encoder and :func:`imagenet_cfg_options` turns a
folder holding them (or ``ENC=PATH`` pairs) into the ``--cfg-options`` of a
cell (``model.backbone.pretrained=PATH``); ``tools/benchmark_grid.py
--imagenet`` uses it.
"""
import json
import os.path as osp
from collections import OrderedDict
from functools import lru_cache
from typing import Dict, Optional

# key -> (display name, base file)
ARCHITECTURES = OrderedDict([
    ('unet', 'U-Net'),
    ('unetplusplus', 'U-Net++'),
    ('manet', 'MANet'),
    ('linknet', 'LinkNet'),
    ('fpn', 'FPN'),
    ('pspnet', 'PSPNet'),
    ('pan', 'PAN'),
    ('deeplabv3', 'DeepLabV3'),
    ('deeplabv3plus', 'DeepLabV3+'),
])

# key -> (display name, encoder base file); 'plain' = the architecture's
# default without a classification backbone (the thesis rows without
# encoder)
ENCODERS = OrderedDict([
    ('plain', ('-', 'plain')),
    ('r18', ('ResNet18', 'resnet18')),
    ('r34', ('ResNet34', 'resnet34')),
    ('r50', ('ResNet50', 'resnet50')),
    ('r101', ('ResNet101', 'resnet101')),
    ('mbv2', ('MobileNetV2', 'mobilenetv2')),
    ('effb0', ('EfficientNet-b0', 'efficientnet-b0')),
    ('effb1', ('EfficientNet-b1', 'efficientnet-b1')),
    ('effb3', ('EfficientNet-b3', 'efficientnet-b3')),
    ('effb5', ('EfficientNet-b5', 'efficientnet-b5')),
    ('effb7', ('EfficientNet-b7', 'efficientnet-b7')),
])


def check_cell(arch: str, encoder: str) -> None:
    if arch not in ARCHITECTURES:
        raise ValueError(f'unknown architecture {arch!r}; expected one of '
                         f'{", ".join(ARCHITECTURES)}')
    if encoder not in ENCODERS:
        raise ValueError(f'unknown encoder {encoder!r}; expected one of '
                         f'{", ".join(ENCODERS)}')


#: protocol -> (config folder, leaf suffix, dataset, schedule, runtime
#: bases, one line of description). 'camus': the 4-class ED/ES benchmark of
#: mmecho; 'thesis': paper 002's binary LV task (configs/camus_thesis).
PROTOCOLS = OrderedDict([
    ('camus', ('camus', '_camus', 'camus_2d', 'camus_20k', 'camus_runtime',
               'on CAMUS')),
    ('thesis', ('camus_thesis', '_camus-thesis', 'camus_thesis_lv',
                'camus_thesis_20e', 'camus_thesis_runtime',
                'with the thesis protocol (paper 002: binary LV on frame 2 '
                'of the 2CH half\n# sequences, 400/50/50, DiceBCE, Adam 1e-3,'
                ' batch 4, 20 epochs)')),
])


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f'unknown protocol {protocol!r}; expected one of '
                         f'{", ".join(PROTOCOLS)}')


def leaf_config_path(arch: str,
                     encoder: str,
                     root: str = 'configs',
                     protocol: str = 'camus') -> str:
    """``configs/camus/deeplabv3plus/deeplabv3plus_effb3_camus.py``;
    protocol 'thesis':
    ``configs/camus_thesis/deeplabv3plus/deeplabv3plus_effb3_camus-thesis.py``.
    """
    check_cell(arch, encoder)
    check_protocol(protocol)
    folder, suffix = PROTOCOLS[protocol][:2]
    name = f'{arch}{suffix}.py' if encoder == 'plain' else \
        f'{arch}_{encoder}{suffix}.py'
    return osp.join(root, folder, arch, name)


def leaf_config_text(arch: str, encoder: str, protocol: str = 'camus') -> str:
    """The content of a generated leaf config.

    The U-Net row without encoder is the thesis's appendix U-Net
    (``configs/_base_/models/camus/thesis_unet.py``, a complete network);
    every other cell composes an architecture base and an encoder base.
    """
    check_cell(arch, encoder)
    check_protocol(protocol)
    _, _, data, schedule, runtime, what = PROTOCOLS[protocol]
    enc_name, enc_file = ENCODERS[encoder]
    title = ARCHITECTURES[arch] + (''
                                   if encoder == 'plain' else f' x {enc_name}')
    if arch == 'unet' and encoder == 'plain':
        model_bases = ["    '../../_base_/models/camus/thesis_unet.py',\n"]
        model = {}
    else:
        model_bases = [
            f"    '../../_base_/models/camus/{arch}.py',\n",
            f"    '../../_base_/encoders/{enc_file}.py',\n"
        ]
        model = {'backbone': 'encoder'}
    if protocol == 'thesis':
        model.update(
            data_preprocessor='thesis_data_preprocessor',
            decode_head='thesis_decode_head',
            test_cfg='thesis_test_cfg')
    text = (f'# {title} {what}.\n'
            '# Generated by tools/misc/generate_camus_grid_configs.py.\n'
            '_base_ = [\n' + ''.join(model_bases) +
            f"    '../../_base_/datasets/{data}.py',\n"
            f"    '../../_base_/schedules/{schedule}.py',\n"
            f"    '../../_base_/{runtime}.py'\n"
            ']\n')
    if model:
        items = [f'{k}={{{{_base_.{v}}}}}' for k, v in model.items()]
        sep = ',\n    ' if len(items) > 1 else ''
        text += ('model = dict(' + '\n    ' * bool(sep) + sep.join(items) +
                 ')\n')
    return text


# ImageNet initialisation (the thesis's): encoder key -> the published file
# names its weights are distributed under, preferred first. torchvision's
# current names (``torchvision.models`` / mmengine's ``torchvision://``
# table, torchvision 0.12) and the older ones smp's legacy settings list;
# lukemelas' EfficientNet-PyTorch release 1.0 (smp's ``efficientnet-bX``
# ``imagenet`` weights). 'plain' has none: it is not a classification
# backbone.
IMAGENET_FILES = OrderedDict([
    ('r18', ('resnet18-f37072fd.pth', 'resnet18-5c106cde.pth')),
    ('r34', ('resnet34-b627a593.pth', 'resnet34-333f7ec4.pth')),
    ('r50', ('resnet50-0676ba61.pth', 'resnet50-19c8e357.pth')),
    ('r101', ('resnet101-63fe2227.pth', 'resnet101-5d3b4d8f.pth')),
    ('mbv2', ('mobilenet_v2-b0353104.pth', )),
    ('effb0', ('efficientnet-b0-355c32eb.pth', )),
    ('effb1', ('efficientnet-b1-f1951068.pth', )),
    ('effb3', ('efficientnet-b3-5fb5a3c3.pth', )),
    ('effb5', ('efficientnet-b5-b6417697.pth', )),
    ('effb7', ('efficientnet-b7-dcc49843.pth', )),
])

#: where the files are published (for messages; the loader downloads these
#: URIs only when they are passed explicitly and the machine is online)
IMAGENET_URIS = OrderedDict(
    [(k, f'https://download.pytorch.org/models/{v[0]}')
     for k, v in IMAGENET_FILES.items() if not k.startswith('eff')] +
    [(k, 'https://github.com/lukemelas/EfficientNet-PyTorch/releases/'
      f'download/1.0/{v[0]}')
     for k, v in IMAGENET_FILES.items() if k.startswith('eff')])

NO_IMAGENET = ('the plain encoder (the U-Net contracting path) has no '
               'ImageNet weights: it is not a classification backbone, so '
               'its cells train from scratch')


def parse_imagenet_source(items) -> dict:
    """``--imagenet`` arguments -> ``{'dir': DIR or None, ENC: PATH, ...}``:
    one folder holding the published file names, and/or ``ENC=PATH`` pairs
    (``PATH`` may be a ``torchvision://`` or ``http(s)://`` URI). A dict is
    returned as it is (keys ``dir`` and encoder keys)."""
    if isinstance(items, dict):
        return dict(items)
    if isinstance(items, str):
        items = [items]
    source = {'dir': None}
    for item in items:
        enc, sep, path = str(item).partition('=')
        if sep and enc in ENCODERS:
            if enc == 'plain':
                raise ValueError(NO_IMAGENET)
            source[enc] = path if '://' in path else osp.expanduser(path)
        elif sep and '://' not in enc and not osp.isdir(item):
            raise ValueError(
                f'--imagenet {item}: {enc!r} is not an encoder key; expected '
                f'DIR or ENC=PATH with ENC one of {", ".join(IMAGENET_FILES)}')
        else:
            if source['dir'] is not None:
                raise ValueError('--imagenet: give one folder (and ENC=PATH '
                                 'pairs), got two')
            source['dir'] = osp.expanduser(item)
    return source


def imagenet_weights(encoder: str, source) -> Optional[str]:
    """The ImageNet weights for a grid encoder key: the explicit path of
    ``source`` (see :func:`parse_imagenet_source`) if given, else the first
    published file name present in ``source['dir']``. None for ``plain``
    (see :data:`NO_IMAGENET`).

    Raises:
        FileNotFoundError: none of the published names is in the folder (the
            message lists them and where they are published).
    """
    if encoder not in ENCODERS:
        check_cell('unet', encoder)
    if encoder == 'plain':
        return None
    source = parse_imagenet_source(source)
    if source.get(encoder):
        path = source[encoder]
        if '://' not in path and not osp.isfile(path):
            raise FileNotFoundError(f'ImageNet weights for {encoder}: {path} '
                                    'does not exist')
        return path
    folder = source.get('dir')
    names = IMAGENET_FILES[encoder]
    if folder:
        for name in names:
            path = osp.join(folder, name)
            if osp.isfile(path):
                return path
    raise FileNotFoundError(
        f'ImageNet weights for {encoder} ({ENCODERS[encoder][0]}): none of '
        f'{", ".join(names)} in {folder or "(no folder given)"}; download '
        f'{IMAGENET_URIS[encoder]} there or pass {encoder}=PATH')


def imagenet_cfg_options(encoder: str, source) -> list:
    """``--cfg-options`` that initialise a cell's encoder with ImageNet
    weights: ``['model.backbone.pretrained=PATH']`` (``[]`` for plain)."""
    path = imagenet_weights(encoder, source)
    return [] if path is None else [f'model.backbone.pretrained={path}']


#: the thesis's Tables 1-9 (paper 002), as printed: arch -> encoder ->
#: 'initial' | 'augmented' -> accuracy (its soft Dice), miou, recall
THESIS_TABLES_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'thesis_tables_002.json')


@lru_cache(maxsize=1)
def _thesis_tables() -> dict:
    with open(THESIS_TABLES_FILE) as f:
        return json.load(f)['tables']


def thesis_values(arch: str, encoder: str, arm: str) -> Dict[str, float]:
    """The thesis's Accuracy, mIoU and Recall of one cell and arm
    (``'initial'`` or ``'augmented'``): ``{'accuracy': ..., 'miou': ...,
    'recall': ...}``; ``{}`` where the thesis has no value."""
    check_cell(arch, encoder)
    if arm not in ('initial', 'augmented'):
        raise ValueError(f"arm must be 'initial' or 'augmented', got {arm!r}")
    return dict(_thesis_tables().get(arch, {}).get(encoder, {}).get(arm, {}))
