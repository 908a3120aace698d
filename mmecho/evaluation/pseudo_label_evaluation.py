# Copyright (c) mmecho contributors. All rights reserved.
"""Pseudo-labels against dense references, frame by frame (paper 001 Fig. 2).

References are the labels of every frame: the CAMUS phantom's (or the 2023
release's) ``half_sequence_gt`` files, or TED-style dense annotations given
by ``reference_name`` / ``reference_root``. Frames written as 255 (outside
ED..ES) are skipped.
"""
import csv
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmecho.datasets.camus import CAMUS_VIEWS, CAMUSFiles, resolve_patients
from mmecho.datasets.io import DatasetFormatError, load_medical_image
from mmecho.utils import atomic_write, atomic_write_text
from .echo_seg_metric import CAMUS_LABEL_STRUCTURES
from .functional import dice, hausdorff_and_mad


def evaluate_sequence(pred: np.ndarray,
                      ref: np.ndarray,
                      spacing: Sequence[float],
                      structures: Dict[str,
                                       Sequence[int]] = CAMUS_LABEL_STRUCTURES,
                      ignore: int = 255) -> List[Dict]:
    """Per-frame, per-structure Dice, HD and MAD (mm) of a ``(T, H, W)``
    prediction against a ``(T, H, W)`` reference; rows with ``frame`` and
    ``position = frame / (T - 1)`` (0 at ED, 1 at ES)."""
    if pred.shape != ref.shape:
        raise ValueError(f'prediction {pred.shape} and reference {ref.shape} '
                         'differ')
    T = pred.shape[0]
    rows = []
    for t in range(T):
        if (pred[t] == ignore).all() or (ref[t] == ignore).all():
            continue
        for name, labels in structures.items():
            p = np.isin(pred[t], labels)
            r = np.isin(ref[t], labels)
            hd, mad = hausdorff_and_mad(p, r, spacing)
            rows.append(
                dict(
                    frame=t,
                    position=t / max(T - 1, 1),
                    structure=name,
                    Dice=dice(p, r),
                    HD=hd,
                    MAD=mad))
    return rows


def evaluate_pseudo_label_roots(
        data_root: str,
        methods: Dict[str, str],
        patients_dir: str = 'database_nifti',
        split=None,
        views: Sequence[str] = CAMUS_VIEWS,
        reference_name: str = 'half_sequence_gt',
        reference_root: Optional[str] = None,
        pseudo_name: str = 'half_sequence_pseudo') -> List[Dict]:
    """Rows for every method (name -> root holding its pseudo-labels),
    patient, view, frame and structure."""
    rows = []
    for pid in resolve_patients(data_root, patients_dir, split):
        for view in views:
            files = CAMUSFiles(data_root, patients_dir, pid, view)
            ref_path = files.sequence(
                gt=True, label_name=reference_name, label_root=reference_root)
            ref, spacing = load_medical_image(ref_path)
            for method, root in methods.items():
                path = files.sequence(
                    gt=True, label_name=pseudo_name, label_root=root)
                pred, _ = load_medical_image(path)
                if pred.shape != ref.shape:
                    raise DatasetFormatError(
                        path, f'pseudo-labels of shape {pred.shape}, the '
                        f'reference {ref_path} has {ref.shape}')
                for r in evaluate_sequence(pred, ref, spacing[-2:]):
                    rows.append(
                        dict(method=method, patient=pid, view=view, **r))
    return rows


def summarise(rows: List[Dict], inner_only: bool = False) -> List[Dict]:
    """Mean and SD of Dice/HD/MAD per method and structure (``inner_only``:
    frames strictly between ED and ES)."""
    groups = defaultdict(list)
    for r in rows:
        if inner_only and r['position'] in (0.0, 1.0):
            continue
        groups[(r['method'], r['structure'])].append(r)
    out = []
    for (method, struct), rs in groups.items():
        rec = dict(method=method, structure=struct, n=len(rs))
        for k in ('Dice', 'HD', 'MAD'):
            v = np.array([r[k] for r in rs], float)
            rec[k] = float(v.mean())
            rec[f'{k}_sd'] = float(v.std())
        out.append(rec)
    return out


def write_report(rows: List[Dict], out_dir: str, bins: int = 10) -> Dict:
    """``per_frame.csv``, ``summary.csv``/``.md`` and ``dice_vs_frame.png``
    (mean Dice per structure against the normalised frame position, one line
    per method); all written atomically. Returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = dict(
        per_frame=osp.join(out_dir, 'per_frame.csv'),
        summary=osp.join(out_dir, 'summary.csv'),
        table=osp.join(out_dir, 'summary.md'),
        plot=osp.join(out_dir, 'dice_vs_frame.png'))
    with atomic_write(paths['per_frame'], 'w') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    summary = summarise(rows)
    inner = {
        (s['method'], s['structure']): s
        for s in summarise(rows, inner_only=True)
    }
    with atomic_write(paths['summary'], 'w') as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0]))
        w.writeheader()
        w.writerows(summary)
    lines = [
        '| method | structure | Dice | HD (mm) | MAD (mm) | Dice, frames '
        'between ED and ES |', '|---|---|---|---|---|---|'
    ]
    for s in summary:
        i = inner.get((s['method'], s['structure']))
        lines.append(
            f'| {s["method"]} | {s["structure"]} | {s["Dice"]:.3f} ± '
            f'{s["Dice_sd"]:.3f} | {s["HD"]:.2f} | {s["MAD"]:.2f} | ' +
            (f'{i["Dice"]:.3f}' if i else '-') + ' |')
    atomic_write_text(paths['table'], '\n'.join(lines) + '\n')
    _plot(rows, paths['plot'], bins)
    return paths


def _plot(rows, path, bins):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    structs = sorted({r['structure'] for r in rows})
    methods = sorted({r['method'] for r in rows})
    fig, axes = plt.subplots(
        1, len(structs), figsize=(4 * len(structs), 3.2), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for ax, s in zip(axes[0], structs):
        for m in methods:
            pos = np.array([
                r['position'] for r in rows
                if r['structure'] == s and r['method'] == m
            ])
            val = np.array([
                r['Dice'] for r in rows
                if r['structure'] == s and r['method'] == m
            ])
            idx = np.clip(np.digitize(pos, edges) - 1, 0, bins - 1)
            mean = [
                val[idx == b].mean() if (idx == b).any() else np.nan
                for b in range(bins)
            ]
            ax.plot(centres, mean, marker='o', label=m)
        ax.set_title(s)
        ax.set_xlabel('frame position (0 = ED, 1 = ES)')
        ax.set_ylabel('Dice')
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    with atomic_write(path, mode=None) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
