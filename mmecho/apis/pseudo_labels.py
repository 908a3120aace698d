# Copyright (c) mmecho contributors. All rights reserved.
"""Registration pseudo-labels for CAMUS sequences (paper 001).

:func:`generate_camus_pseudo_labels` walks the patients and views of a CAMUS
root, propagates the manual ED and ES label maps through each sequence with
a trained registration model (:func:`mmecho.registration.propagate_labels`)
and writes ``{patient}_{view}_half_sequence_pseudo.nii.gz`` beside the CAMUS
files or under a separate root with the same layout. Every file is written
atomically and recorded in ``pseudo_labels.json`` (mode, frames, and the
model that made it: config and checkpoint with their SHA-256); a re-run
skips what is recorded, so an interrupted run resumes, and refuses to add
files from another model to a folder (unless ``overwrite``).
"""
import hashlib
import json
import os.path as osp
import time
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import torch

from mmecho.datasets.camus import CAMUS_VIEWS, CAMUSFiles, resolve_patients
from mmecho.datasets.io import save_medical_image
from mmecho.registration import MODES, propagate_labels
from mmecho.utils import atomic_write_text

PSEUDO_NAME = 'half_sequence_pseudo'
MANIFEST = 'pseudo_labels.json'
#: label written for frames outside ED..ES (2019 full sequences)
UNLABELLED = 255


def load_registration_model(config: str,
                            checkpoint: Optional[str],
                            device: str = 'cpu',
                            allow_partial: bool = False):
    """Build a :class:`PairwiseRegistrator` from its config, load the
    checkpoint (without trusting the file; weights that do not fit the
    model are refused unless ``allow_partial``) and return ``(model,
    size)``, ``size`` the ``(H, W)`` its training frames had."""
    from mmengine.config import Config

    from mmecho.engine.checkpoint import load_model_weights
    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_model_weights(model, checkpoint, allow_partial)
    model.to(device).eval()
    size = tuple(cfg.train_dataloader.dataset.get('size', (512, 512)))
    return model, size


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
            for name, rec in manifest['files'].items()
            if _model_key(rec.get('model', manifest.get('model'))) !=
            _model_key(model)
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


def _write_pseudo_labels(jobs, root: str, settings: Dict, overwrite: bool,
                         progress: bool, make: Callable) -> Dict:
    """The loop both datasets share: for every ``(key, out_path)`` of
    ``jobs`` not yet recorded in the manifest (or all with ``overwrite``),
    ``make(key)`` returns ``(labels, spacing, record, frames_processed)``;
    the labels are written atomically and ``record`` (plus the file's path)
    is saved in the manifest right away, so an interrupted run resumes.

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
    for key, out_path in jobs:
        if not overwrite and key in done and osp.isfile(out_path):
            skipped += 1
        else:
            labels, spacing, record, processed = make(key)
            save_medical_image(out_path, labels, spacing)
            done[key] = dict(
                path=osp.relpath(out_path, root),
                model=settings.get('model') or {},
                **record)
            atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
            written += 1
            frames += processed
        if bar:
            bar.update()
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
    return dict(
        written=written,
        skipped=skipped,
        frames=frames,
        seconds=time.perf_counter() - t0,
        manifest=manifest_path,
        records={
            key: done[key]
            for key, _ in jobs
        })


def generate_camus_pseudo_labels(fields_fn: Callable,
                                 data_root: str,
                                 mode: str = 'bidirectional',
                                 out_root: Optional[str] = None,
                                 patients_dir: str = 'database_nifti',
                                 split: Union[None, str, Sequence[str]] = None,
                                 views: Sequence[str] = CAMUS_VIEWS,
                                 size: Optional[Sequence[int]] = None,
                                 strategy: str = 'sequential',
                                 num_classes: int = 4,
                                 closing_kernel: int = 5,
                                 batch_size: int = 8,
                                 device: str = 'cpu',
                                 overwrite: bool = False,
                                 model_info: Optional[Dict] = None,
                                 progress: bool = True) -> Dict:
    """Write pseudo-labels for every selected patient and view.

    Args:
        fields_fn (callable): ``(fixed, moving) -> displacement``, e.g. a
            :class:`PairwiseRegistrator`'s ``displacement``.
        data_root (str): CAMUS root.
        mode (str): ``'forward'``, ``'backward'`` or ``'bidirectional'``.
        out_root (str, optional): Separate output root (same layout);
            default: beside the CAMUS files.
        size (tuple, optional): ``(H, W)`` the model works at.
        overwrite (bool): Regenerate files already recorded.
        model_info (dict, optional): Recorded in the manifest (config,
            checkpoint).

    Returns:
        dict: ``written``, ``skipped``, ``frames``, ``seconds``,
        ``manifest`` (path).
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    jobs, sources = [], {}
    for pid in resolve_patients(data_root, patients_dir, split):
        for view in views:
            files = CAMUSFiles(data_root, patients_dir, pid, view)
            ext = '.nii' if files.sequence(gt=False).endswith('.nii') \
                else '.nii.gz'
            key = f'{pid}_{view}'
            sources[key] = files
            jobs.append(
                (key,
                 files.label_stem(out_root or None) + f'_{PSEUDO_NAME}{ext}'))

    def make(key):
        files = sources[key]
        seq = files.ed_to_es()
        ed_lab, es_lab = files.instant_labels(seq['frames'].shape[1:])
        part = propagate_labels(
            fields_fn,
            seq['frames'],
            ed_lab,
            es_lab,
            mode,
            num_classes,
            size=size,
            strategy=strategy,
            closing_kernel=closing_kernel,
            batch_size=batch_size,
            device=device)
        # the manual labels stay (after propagation and closing), as in the
        # M&Ms files and the nnU-Net export
        part[0], part[-1] = ed_lab, es_lab
        out = np.full(seq['shape'], UNLABELLED, np.uint8)
        out[seq['ed']:seq['es'] + 1] = part
        T = seq['shape'][0]
        record = dict(frames=T, ed_index=seq['ed'], es_index=seq['es'])
        return out, seq['file_spacing'], record, T

    res = _write_pseudo_labels(
        jobs, out_root if out_root else data_root,
        dict(
            dataset='camus',
            mode=mode,
            strategy=strategy,
            size=list(size) if size else None,
            closing_kernel=closing_kernel,
            model=model_info or {}), overwrite, progress, make)
    res.pop('records')
    return res


def model_fields_fn(model) -> Callable:
    """The ``fields_fn`` of a registration model, without gradients."""

    @torch.no_grad()
    def fn(fixed, moving):
        return model.displacement(fixed, moving)

    return fn


def generate_mnms_pseudo_labels(fields_fn: Callable,
                                data_root: str,
                                info_file: str,
                                mode: str = 'forward',
                                out_root: Optional[str] = None,
                                splits: Optional[Sequence[str]] = None,
                                vendors: Optional[Sequence[str]] = None,
                                size: Optional[Sequence[int]] = None,
                                strategy: str = 'sequential',
                                num_classes: int = 4,
                                closing_kernel: int = 5,
                                batch_size: int = 8,
                                device: str = 'cpu',
                                overwrite: bool = False,
                                model_info: Optional[Dict] = None,
                                progress: bool = True) -> Dict:
    """M&Ms (paper 003): propagate the ED labels of every short-axis slice
    to the frames up to ES (``'forward'``, the paper's choice), the ES
    labels back (``'backward'``) or both (``'bidirectional'``).

    Writes ``{code}_sa_pseudo.nii.gz`` (the 4D shape of ``_sa``; frames
    outside ED..ES are 255, ED and ES keep the manual labels) beside the
    data or under ``out_root`` with the same layout, plus the manifest, and
    resumes like :func:`generate_camus_pseudo_labels`. The returned dict
    also holds ``es_dice``: per region, the mean Dice of the propagated
    labels at ES against the ES reference over slices labelled at ED
    (forward mode: the check paper 003 relies on; in the other modes the
    ES frame is the ES reference itself).
    """
    from mmecho.datasets.mnms import MnMsReader, pseudo_label_path
    from mmecho.datasets.mnms_frame_pairs import frames_ed_to_es, to_uint8
    from mmecho.evaluation.functional import dice
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    reader = MnMsReader(data_root, info_file)
    jobs = [(code, pseudo_label_path(reader, code, out_root))
            for code in reader.subjects(splits, vendors)]

    def make(code):
        d = reader.load(code)
        if d['label'] is None:
            raise ValueError(f'{code}: no {code}_sa_gt file to propagate')
        image = to_uint8(d['image'])
        T, Z = image.shape[:2]
        frames = frames_ed_to_es(d['ed'], d['es'], T)
        out = np.full(image.shape, UNLABELLED, np.uint8)
        subject_dice = {c: [] for c in range(1, num_classes)}
        for z in range(Z):
            ed_lab = d['label'][d['ed'], z]
            es_lab = d['label'][d['es'], z]
            part = propagate_labels(
                fields_fn,
                image[frames, z],
                ed_lab,
                es_lab,
                mode,
                num_classes,
                size=size,
                strategy=strategy,
                closing_kernel=closing_kernel,
                batch_size=batch_size,
                device=device)
            if mode == 'forward' and ed_lab.any():
                for c in subject_dice:
                    if (es_lab == c).any():
                        subject_dice[c].append(
                            dice(part[-1] == c, es_lab == c))
            part[0], part[-1] = ed_lab, es_lab  # the manual labels stay
            out[frames, z] = part
        record = dict(
            frames=len(frames),
            ed=d['ed'],
            es=d['es'],
            es_dice={
                str(c): v
                for c, v in subject_dice.items()
            })
        return out, d['spacing'], record, len(frames) * Z

    res = _write_pseudo_labels(
        jobs, out_root if out_root else data_root,
        dict(
            dataset='mnms',
            mode=mode,
            strategy=strategy,
            size=list(size) if size else None,
            closing_kernel=closing_kernel,
            model=model_info or {}), overwrite, progress, make)
    es_dice = {c: [] for c in range(1, num_classes)}
    for record in res.pop('records').values():
        for c, v in record.get('es_dice', {}).items():
            es_dice[int(c)] += v
    return dict(
        res,
        es_dice={
            c: float(np.mean(v)) if v else float('nan')
            for c, v in es_dice.items()
        })
