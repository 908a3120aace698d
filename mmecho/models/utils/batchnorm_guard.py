# Copyright (c) mmecho contributors. All rights reserved.
"""Explain torch's "Expected more than 1 value per channel when training".

A BatchNorm layer in training mode needs more than one value per channel:
with a batch of one image it fails after a global pooling (DeepLabV3/V3+'s
image-pooling branch, PSP's 1x1 bin) or on a 1x1 map (tiny inputs). The
guard costs nothing on a normal step: it only catches that ``ValueError``
and raises it again with what to change; any other error passes unchanged.
"""
import re
from contextlib import contextmanager
from typing import List, Optional

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['BatchNormSingleValueError', 'batchnorm_batch_guard']

_TORCH_MESSAGE = 'Expected more than 1 value per channel when training'
_SIZE = re.compile(r'torch\.Size\(\[([0-9, ]+)\]\)')


class BatchNormSingleValueError(ValueError):
    """A BatchNorm layer saw one value per channel in training mode."""


def _failing_layer(error: BaseException, model: nn.Module) -> Optional[str]:
    """The name of the BatchNorm whose ``forward`` raised, from the
    traceback (its frame's ``self``)."""
    tb = error.__traceback__
    layer = None
    while tb is not None:
        obj = tb.tb_frame.f_locals.get('self')
        if isinstance(obj, _BatchNorm):
            layer = obj
        tb = tb.tb_next
    if layer is None:
        return None
    for name, m in model.named_modules():
        if m is layer:
            return name or type(m).__name__
    return type(layer).__name__


def _candidates(model: nn.Module, channels: int) -> List[str]:
    return [
        name for name, m in model.named_modules() if isinstance(m, _BatchNorm)
        and m.training and m.num_features == channels
    ]


def explain(error: ValueError, model: nn.Module) -> str:
    """The advice for torch's single-value BatchNorm error."""
    match = _SIZE.search(str(error))
    shape = ([int(v) for v in match.group(1).split(',')] if match else [])
    where = ''
    layer = _failing_layer(error, model)
    if layer is not None:
        where = f' Layer: {layer}.'
    elif len(shape) >= 2:
        layers = _candidates(model, shape[1])
        if layers:
            more = f' (+{len(layers) - 4} more)' if len(layers) > 4 else ''
            where = (f' Training-mode BatchNorm layers with {shape[1]} '
                     f'channels: {", ".join(layers[:4])}{more}.')
    spatial = shape[2:]
    pooled = bool(spatial) and all(s == 1 for s in spatial)
    batch = shape[0] if shape else None
    lines = [
        f'BatchNorm saw one value per channel in training mode (input '
        f'{tuple(shape) if shape else "?"}: batch {batch}' +
        (f', spatial {tuple(spatial)}' if spatial else '') + ').' + where,
        'Change one of: train with batch size >= 2 '
        '(train_dataloader.batch_size, or drop_last=True so no final batch '
        'of one is left);',
    ]
    if pooled:
        lines.append(
            'a larger input (crop/resize size) only helps if this 1x1 map '
            'is not a global pooling (DeepLabV3/V3+ image_pool, PSP bins of '
            'size 1 always give 1x1);')
    else:
        lines.append(
            'or a larger input (crop/resize size) so that the feature map '
            'has more than one value per channel;')
    lines.append(
        "or a norm that does not use the batch: norm_cfg=dict(type='GN', "
        'num_groups=..., requires_grad=True) instead of BN (SyncBN needs '
        '>= 2 images over all GPUs together). torch said: ' + str(error))
    return ' '.join(lines)


@contextmanager
def batchnorm_batch_guard(model: nn.Module):
    """Re-raise torch's single-value BatchNorm ``ValueError`` as a
    :class:`BatchNormSingleValueError` saying what to change; other
    exceptions pass through untouched."""
    try:
        yield
    except ValueError as e:
        if isinstance(e, BatchNormSingleValueError) or \
                _TORCH_MESSAGE not in str(e):
            raise
        raise BatchNormSingleValueError(explain(e, model)) from e
