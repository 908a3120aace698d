# Copyright (c) mmecho contributors. All rights reserved.
"""ImageNet initialisation of the grid's encoders (the thesis's).

:data:`IMAGENET_FILES` names the published weights of each encoder and
:func:`imagenet_cfg_options` turns a folder holding them (or ``ENC=PATH``
pairs) into the ``--cfg-options`` of a cell
(``model.backbone.pretrained=PATH``); ``tools/benchmark_grid.py
--imagenet`` uses it.
"""
import os.path as osp
from collections import OrderedDict
from typing import Optional

from .cells import ENCODERS, check_cell

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
