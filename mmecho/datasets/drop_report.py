# Copyright (c) mmecho contributors. All rights reserved.
"""Count what a dataset loader drops; warn once, or raise when strict.

Usage (one report per dataset build)::

    report = DropReport()
    for ann in anns:
        if bad(ann):
            report.add('zero-area polygon', f'annotation {ann["id"]}')
            continue
    ...
    report.finish('MEISDataset', ann_file, strict=self.strict)

``finish`` does nothing when nothing was dropped; otherwise it emits ONE
:class:`DatasetDropWarning` (a ``UserWarning``) such as::

    data/meis/Allmode_train.json: MEISDataset: dropped 3 item(s): 2 x
    zero-area polygon (annotation 5, annotation 9); 1 x unknown image_id
    (annotation 12) (pass strict=True to make this an error)

or, with ``strict=True``, raises :class:`DatasetFormatError` with the same
text (the path is the error's ``path``).
"""
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional

from mmecho.errors import DatasetFormatError

__all__ = ['DropReport', 'DatasetDropWarning', 'check_not_empty']


class DatasetDropWarning(UserWarning):
    """Emitted once per dataset build when a loader dropped something."""


class DropReport:
    """Counts dropped items per reason and keeps a few examples of each.

    Args:
        max_examples (int): Examples kept (and printed) per reason.
    """

    def __init__(self, max_examples: int = 5) -> None:
        self.max_examples = max_examples
        self._counts: Dict[str, int] = OrderedDict()
        self._examples: Dict[str, List[str]] = OrderedDict()

    def add(self, reason: str, detail: Optional[str] = None) -> None:
        """Count one dropped item under ``reason``; ``detail`` (e.g.
        ``'annotation 12'``) is kept as an example."""
        self._counts[reason] = self._counts.get(reason, 0) + 1
        examples = self._examples.setdefault(reason, [])
        if detail is not None and len(examples) < self.max_examples:
            examples.append(str(detail))

    def __len__(self) -> int:
        return sum(self._counts.values())

    def summary(self) -> str:
        """``'2 x reason (ex1, ex2); 1 x other (ex)'``."""
        parts = []
        for reason, n in self._counts.items():
            ex = self._examples.get(reason)
            more = ', ...' if ex and n > len(ex) else ''
            parts.append(f'{n} x {reason}' +
                         (f' ({", ".join(ex)}{more})' if ex else ''))
        return '; '.join(parts)

    def finish(self,
               dataset_name: str,
               path,
               strict: bool = False,
               hint: str = '') -> None:
        """Warn once (or raise when ``strict``) if anything was counted.

        Args:
            dataset_name (str): E.g. ``'MEISDataset'``.
            path: The file or root the drops come from (named in the text).
            strict (bool): Raise :class:`DatasetFormatError` instead.
            hint (str): Appended to the message (e.g. what happened to the
                dropped items, or how to make it an error).
        """
        if not self:
            return
        msg = (f'{dataset_name}: dropped {len(self)} item(s): '
               f'{self.summary()}')
        if hint:
            msg += f'. {hint}'
        if strict:
            raise DatasetFormatError(path, msg + ' (strict=True)')
        warnings.warn(
            f'{path}: {msg} (pass strict=True to make this an error)',
            DatasetDropWarning,
            stacklevel=3)


def check_not_empty(data_list: list, dataset: str, root: str,
                    **selection) -> None:
    """Raise a :class:`DatasetFormatError` naming ``root``, the split and
    the filters when a dataset build selected nothing (mmengine would fail
    later with "need at least one array to concatenate")."""
    if data_list:
        return
    what = ', '.join(f'{k}={v!r}' for k, v in selection.items())
    raise DatasetFormatError(
        root, f'{dataset}: no items selected by {what}; expected at least '
        'one (check data_root, the split and the filters)')
