# Copyright (c) mmecho contributors. All rights reserved.
"""Registration pseudo-labels: the loop every dataset shares (papers 001
and 003).

:func:`generate_pseudo_labels` asks a dataset adapter
(:class:`~.camus_adapter.CAMUSAdapter`, :class:`~.mnms_adapter.MnMsAdapter`)
for its jobs (one output file each), propagates the manual ED / ES labels
of each through its frames with a registration model (``fields_fn``, see
:class:`Propagation`) and writes the files beside the data or under a
separate root with the same layout. Every file is written atomically and
recorded in ``pseudo_labels.json`` (dataset, mode, frames, and the model
that made it: config and checkpoint with their SHA-256); a re-run skips
what is recorded, so an interrupted run resumes, and refuses to add files
from another model, or made another way, to a folder (unless
``overwrite``).
"""
import hashlib
import json
import os.path as osp
import time
from dataclasses import dataclass
from typing import (Any, Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple)

import numpy as np

from mmecho.datasets.io import save_medical_image
from mmecho.utils import atomic_write_text
from ..label_propagation import MODES, propagate_labels

MANIFEST = 'pseudo_labels.json'
#: label written for frames outside ED..ES (and 2019 full sequences)
UNLABELLED = 255


@dataclass
class Propagation:
    """How labels are propagated through a sequence
    (:func:`mmecho.registration.propagate_labels`), the same for every
    dataset.

    Args:
        mode (str): ``'forward'`` (from ED), ``'backward'`` (from ES) or
            ``'bidirectional'`` (Eq. 1 fusion of both).
        size (tuple, optional): ``(H, W)`` the model works at (px); None:
            the frames' own size.
        strategy (str): ``'sequential'`` or ``'fixed'``.
        num_classes (int): Classes including background.
        closing_kernel (int): Closing kernel of the bidirectional fusion
            (px).
        batch_size (int): Frame pairs per network call.
        device (str): Where the fields are computed.
    """
    mode: str = 'bidirectional'
    size: Optional[Sequence[int]] = None
    strategy: str = 'sequential'
    num_classes: int = 4
    closing_kernel: int = 5
    batch_size: int = 8
    device: str = 'cpu'

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {self.mode!r}')

    def __call__(self, fields_fn: Callable, frames: np.ndarray,
                 ed_label: np.ndarray, es_label: np.ndarray) -> np.ndarray:
        """``(T, H, W)`` uint8 labels of ``frames`` ``(T, H, W)`` (ED
        first, ES last) from the ``(H, W)`` ED and ES label maps."""
        return propagate_labels(
            fields_fn,
            frames,
            ed_label,
            es_label,
            self.mode,
            self.num_classes,
            size=self.size,
            strategy=self.strategy,
            closing_kernel=self.closing_kernel,
            batch_size=self.batch_size,
            device=self.device)

    def manifest_settings(self) -> Dict:
        """What the manifest records of the propagation."""
        return dict(
            mode=self.mode,
            strategy=self.strategy,
            size=list(self.size) if self.size else None,
            closing_kernel=self.closing_kernel)


class PseudoLabelJob(NamedTuple):
    """One output file: ``key`` (its manifest entry), ``path`` (where it
    is written) and ``source`` (what the adapter needs to make it)."""
    key: str
    path: str
    source: Any


class PseudoLabelFile(NamedTuple):
    """What an adapter makes of a job: ``labels`` (the file's array, uint8,
    :data:`UNLABELLED` outside ED..ES), ``spacing`` (of every axis, as the
    data file), ``record`` (saved in the manifest with the path and model)
    and ``frames`` (frames propagated, for the throughput)."""
    labels: np.ndarray
    spacing: Tuple[float, ...]
    record: Dict
    frames: int


class PseudoLabelAdapter:
    """A dataset's side of :func:`generate_pseudo_labels`: which files to
    write and how to make each. Subclasses set :attr:`dataset` (recorded in
    the manifest), :attr:`default_mode` and ``data_root``."""

    #: dataset name recorded in the manifest
    dataset: str = ''
    #: propagation mode when :func:`generate_pseudo_labels` gets none
    default_mode: str = 'bidirectional'
    data_root: str

    def jobs(self, out_root: Optional[str]) -> List[PseudoLabelJob]:
        """Every file to write, in order; under ``out_root`` (same layout
        as the data) or, when None, beside the data."""
        raise NotImplementedError

    def make(self, job: PseudoLabelJob, fields_fn: Callable,
             propagation: Propagation) -> PseudoLabelFile:
        """Propagate the labels of one job."""
        raise NotImplementedError

    def summary(self, records: Dict[str, Dict],
                propagation: Propagation) -> Dict:
        """Entries added to the result of :func:`generate_pseudo_labels`
        from the manifest ``records`` of every job (made now or before)."""
        return {}


def file_sha256(path: str) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def model_identity(config, checkpoint: Optional[str]) -> Dict:
    """What a manifest records of the model: the config's path and the
    SHA-256 of its resolved content (bases included), the checkpoint's path
    and the SHA-256 of its bytes."""
    from mmengine.config import Config
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    return dict(
        config=config if isinstance(config, str) else cfg.filename,
        config_sha256=hashlib.sha256(text.encode()).hexdigest(),
        checkpoint=checkpoint,
        checkpoint_sha256=file_sha256(checkpoint) if checkpoint else None)


def _model_key(info: Optional[Dict]):
    info = info or {}
    return info.get('checkpoint_sha256'), info.get('config_sha256')


def _read_manifest(path: str) -> Dict:
    if not osp.isfile(path):
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e}); delete it to '
                         'regenerate the pseudo-labels') from e


def _open_manifest(root: str, settings: Dict, overwrite: bool):
    """Read ``root/pseudo_labels.json`` and check that files recorded there
    were made the same way (dataset, mode, strategy, size) and by the same
    model (checkpoint and config SHA-256), so a resumed run never mixes
    pseudo-labels of different kinds or models; returns ``(path, manifest
    updated with settings)``."""
    path = osp.join(root, MANIFEST)
    manifest = _read_manifest(path)
    keys = ('dataset', 'mode', 'strategy', 'size')
    if manifest.get('files') and not overwrite:
        old = {k: manifest.get(k) for k in keys}
        new = {k: settings[k] for k in keys}
        if old != new:
            raise ValueError(
                f'{path} records pseudo-labels made with {old}, not {new}: '
                'choose another --out or pass --overwrite')
        model = settings.get('model')
        others = {
            name: rec.get('model', manifest.get('model'))
            for name, rec in manifest['files'].items() if _model_key(
                rec.get('model', manifest.get('model'))) != _model_key(model)
        }
        if others:
            name, info = next(iter(others.items()))
            info = info or {}
            raise ValueError(
                f'{path} records {len(others)} pseudo-label files made by '
                'another model (e.g. '
                f'{name}: checkpoint {info.get("checkpoint")} sha256 '
                f'{str(info.get("checkpoint_sha256"))[:12]}, config '
                f'{info.get("config")}) than this run\'s (checkpoint '
                f'{(model or {}).get("checkpoint")} sha256 '
                f'{str((model or {}).get("checkpoint_sha256"))[:12]}): a '
                'resumed run would mix two models\' labels; choose another '
                '--out, or pass --overwrite to regenerate them all')
    manifest.update(settings)
    return path, manifest


def _write_jobs(jobs: List[PseudoLabelJob], root: str, settings: Dict,
                overwrite: bool, progress: bool,
                make: Callable[[PseudoLabelJob], PseudoLabelFile]) -> Dict:
    """For every job not yet recorded in the manifest (or all with
    ``overwrite``), ``make(job)`` propagates the labels; they are written
    atomically and the record (plus the file's path and the model) is
    saved in the manifest right away, so an interrupted run resumes.

    Returns:
        dict: ``written``, ``skipped``, ``frames`` (processed), ``seconds``,
        ``manifest`` (path) and ``records`` (the manifest entries of
        ``jobs``, written now or before).
    """
    manifest_path, manifest = _open_manifest(root, settings, overwrite)
    done = manifest.setdefault('files', {})
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(jobs))
    written = skipped = frames = 0
    t0 = time.perf_counter()
    for job in jobs:
        if not overwrite and job.key in done and osp.isfile(job.path):
            skipped += 1
        else:
            made = make(job)
            save_medical_image(job.path, made.labels, made.spacing)
            done[job.key] = dict(
                path=osp.relpath(job.path, root),
                model=settings.get('model') or {},
                **made.record)
            atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
            written += 1
            frames += made.frames
        if bar:
            bar.update()
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
    return dict(
        written=written,
        skipped=skipped,
        frames=frames,
        seconds=time.perf_counter() - t0,
        manifest=manifest_path,
        records={job.key: done[job.key]
                 for job in jobs})


def generate_pseudo_labels(adapter: PseudoLabelAdapter,
                           fields_fn: Callable,
                           out_root: Optional[str] = None,
                           *,
                           propagation: Optional[Propagation] = None,
                           overwrite: bool = False,
                           model_info: Optional[Dict] = None,
                           progress: bool = True) -> Dict:
    """Write the pseudo-labels of every job of ``adapter``.

    Args:
        adapter (PseudoLabelAdapter): The dataset and its selection, e.g.
            ``CAMUSAdapter(data_root, split=..., views=...)`` or
            ``MnMsAdapter(data_root, info_file, splits=...)``.
        fields_fn (callable): ``(fixed, moving) -> displacement``, e.g.
            :func:`~.model.model_fields_fn` of a registration model.
        out_root (str, optional): Separate output root (same layout as
            the data); default: beside the data.
        propagation (Propagation, optional): Mode, size, strategy, ...;
            default: ``Propagation(mode=adapter.default_mode)``.
        overwrite (bool): Regenerate files already recorded (and accept a
            folder holding files of another model or kind).
        model_info (dict, optional): Recorded in the manifest (see
            :func:`model_identity`).
        progress (bool): Show a progress bar.

    Returns:
        dict: ``written``, ``skipped``, ``frames`` (propagated),
        ``seconds``, ``manifest`` (path), plus the adapter's
        :meth:`~PseudoLabelAdapter.summary` (M&Ms: ``es_dice``).
    """
    if propagation is None:
        propagation = Propagation(mode=adapter.default_mode)
    jobs = adapter.jobs(out_root)
    settings = dict(
        dataset=adapter.dataset,
        **propagation.manifest_settings(),
        model=model_info or {})
    res = _write_jobs(jobs, out_root if out_root else adapter.data_root,
                      settings, overwrite, progress,
                      lambda job: adapter.make(job, fields_fn, propagation))
    res.update(adapter.summary(res.pop('records'), propagation))
    return res
