# Copyright (c) mmecho contributors. All rights reserved.
"""Registration pseudo-labels for CAMUS sequences (paper 001).

:func:`generate_camus_pseudo_labels` walks the patients and views of a CAMUS
root, propagates the manual ED and ES label maps through each sequence with
a trained registration model (:func:`mmecho.registration.propagate_labels`)
and writes ``{patient}_{view}_half_sequence_pseudo.nii.gz`` beside the CAMUS
files or under a separate root with the same layout. Every file is written
atomically and recorded in ``pseudo_labels.json`` (mode, model, frames); a
re-run skips what is recorded, so an interrupted run resumes.
"""
import json
import os.path as osp
import time
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import torch

from mmecho.datasets.camus import CAMUS_VIEWS, CAMUSFiles, resolve_patients
from mmecho.datasets.io import (find_image, load_medical_image,
                                save_medical_image)
from mmecho.registration import MODES, propagate_labels
from mmecho.utils import atomic_write_text

PSEUDO_NAME = 'half_sequence_pseudo'
MANIFEST = 'pseudo_labels.json'
#: label written for frames outside ED..ES (2019 full sequences)
UNLABELLED = 255


def load_registration_model(config: str,
                            checkpoint: Optional[str],
                            device: str = 'cpu'):
    """Build a :class:`PairwiseRegistrator` from its config, load the
    checkpoint and return ``(model, size)``, ``size`` the ``(H, W)`` its
    training frames had."""
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from mmecho.registry import MODELS
    from mmecho.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.to(device).eval()
    size = tuple(cfg.train_dataloader.dataset.get('size', (512, 512)))
    return model, size


def pseudo_label_path(data_root: str,
                      patients_dir: str,
                      patient: str,
                      view: str,
                      out_root: Optional[str] = None,
                      ext: str = '.nii.gz') -> str:
    root = out_root if out_root else data_root
    return osp.join(root, patients_dir, patient,
                    f'{patient}_{view}_{PSEUDO_NAME}{ext}')


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
    were made the same way (dataset, mode, strategy, size), so a resumed run
    never mixes pseudo-labels of different kinds; returns
    ``(path, manifest updated with settings)``."""
    path = osp.join(root, MANIFEST)
    manifest = _read_manifest(path)
    keys = ('dataset', 'mode', 'strategy', 'size')
    if manifest.get('files') and not overwrite:
        old = {
            k: manifest.get(k, settings[k] if k == 'dataset' else None)
            for k in keys
        }
        new = {k: settings[k] for k in keys}
        if old != new:
            raise ValueError(
                f'{path} records pseudo-labels made with {old}, not {new}: '
                'choose another --out or pass --overwrite')
    manifest.update(settings)
    return path, manifest


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
    root = out_root if out_root else data_root
    manifest_path, manifest = _open_manifest(
        root,
        dict(
            dataset='camus',
            mode=mode,
            strategy=strategy,
            size=list(size) if size else None,
            closing_kernel=closing_kernel,
            model=model_info or {}), overwrite)
    files_done = manifest.setdefault('files', {})
    patients = resolve_patients(data_root, patients_dir, split)
    jobs = [(p, v) for p in patients for v in views]
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(jobs))
    written = skipped = frames_done = 0
    t0 = time.perf_counter()
    for pid, view in jobs:
        key = f'{pid}_{view}'
        files = CAMUSFiles(data_root, patients_dir, pid, view)
        img_path = files.sequence(gt=False)
        ext = '.nii.gz' if img_path.endswith('.nii.gz') else (
            '.nii' if img_path.endswith('.nii') else '.nii.gz')
        out_path = pseudo_label_path(data_root, patients_dir, pid, view,
                                     out_root, ext)
        if (not overwrite and key in files_done
                and find_image(out_path[:-len(ext)]) is not None):
            skipped += 1
            if bar:
                bar.update()
            continue
        labels = _pseudo_labels_of(files, img_path, fields_fn, mode, size,
                                   strategy, num_classes, closing_kernel,
                                   batch_size, device)
        frames, spacing = labels.pop('frames'), labels.pop('spacing')
        save_medical_image(out_path, labels['labels'], spacing)
        files_done[key] = dict(
            path=osp.relpath(out_path, root),
            frames=int(frames),
            ed_index=labels['ed'],
            es_index=labels['es'])
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
        written += 1
        frames_done += frames
        if bar:
            bar.update()
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
    return dict(
        written=written,
        skipped=skipped,
        frames=frames_done,
        seconds=time.perf_counter() - t0,
        manifest=manifest_path)


def _pseudo_labels_of(files: CAMUSFiles, img_path: str, fields_fn, mode, size,
                      strategy, num_classes, closing_kernel, batch_size,
                      device) -> Dict:
    from mmecho.datasets.io import DatasetFormatError
    info = files.info()
    seq, spacing = load_medical_image(img_path)
    if seq.ndim != 3:
        raise DatasetFormatError(
            img_path, f'expected a (T, H, W) sequence, got {seq.shape}')
    ed, es = info['ed_index'], info['es_index']
    if not 0 <= ed < es < seq.shape[0]:
        raise DatasetFormatError(
            files.info_path, f'needs 0 <= ED < ES <= {seq.shape[0]} (1-based '
            f'in the file), got ED={ed + 1}, ES={es + 1}',
            field='ED/ES')
    ed_lab, _ = load_medical_image(files.instant('ED', gt=True))
    es_lab, _ = load_medical_image(files.instant('ES', gt=True))
    for name, lab in (('ED', ed_lab), ('ES', es_lab)):
        if lab.shape != seq.shape[1:]:
            raise DatasetFormatError(
                files.instant(name, gt=True),
                f'label map of shape {lab.shape}, but the sequence '
                f'{img_path} has frames of {seq.shape[1:]}')
    part = propagate_labels(
        fields_fn,
        seq[ed:es + 1].astype(np.uint8),
        ed_lab.astype(np.uint8),
        es_lab.astype(np.uint8),
        mode,
        num_classes,
        size=size,
        strategy=strategy,
        closing_kernel=closing_kernel,
        batch_size=batch_size,
        device=device)
    out = np.full(seq.shape, UNLABELLED, np.uint8)
    out[ed:es + 1] = part
    return dict(
        labels=out,
        frames=seq.shape[0],
        spacing=tuple(float(s) for s in spacing),
        ed=ed,
        es=es)


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
    root = out_root if out_root else data_root
    manifest_path, manifest = _open_manifest(
        root,
        dict(
            dataset='mnms',
            mode=mode,
            strategy=strategy,
            size=list(size) if size else None,
            closing_kernel=closing_kernel,
            model=model_info or {}), overwrite)
    done = manifest.setdefault('files', {})
    codes = reader.subjects(splits, vendors)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(codes))
    written = skipped = frames_done = 0
    es_dice = {c: [] for c in range(1, num_classes)}
    t0 = time.perf_counter()
    for code in codes:
        out_path = pseudo_label_path(reader, code, out_root)
        if not overwrite and code in done and osp.isfile(out_path):
            skipped += 1
            for c, v in done[code].get('es_dice', {}).items():
                es_dice[int(c)] += v
            if bar:
                bar.update()
            continue
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
        save_medical_image(out_path, out, d['spacing'])
        done[code] = dict(
            path=osp.relpath(out_path, root),
            frames=len(frames),
            ed=d['ed'],
            es=d['es'],
            es_dice={
                str(c): v
                for c, v in subject_dice.items()
            })
        for c, v in subject_dice.items():
            es_dice[c] += v
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
        written += 1
        frames_done += len(frames) * Z
        if bar:
            bar.update()
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1))
    return dict(
        written=written,
        skipped=skipped,
        frames=frames_done,
        seconds=time.perf_counter() - t0,
        manifest=manifest_path,
        es_dice={
            c: float(np.mean(v)) if v else float('nan')
            for c, v in es_dice.items()
        })
