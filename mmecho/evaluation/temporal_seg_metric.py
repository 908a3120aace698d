# Copyright (c) mmecho contributors. All rights reserved.
"""Sequence-level evaluation of segmentation models (paper 001, Table 1 and
Fig. 3): ED/ES accuracy, volumes and EF, temporal smoothness."""
import csv
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmecho.measurement.agreement import agreement
from mmecho.measurement.simpson import biplane_ef
from mmecho.registry import METRICS
from mmecho.utils import atomic_write, atomic_write_text
from .echo_seg_metric import CAMUS_LABEL_STRUCTURES
from .functional import (area_curve, dice, hausdorff_and_mad,
                         temporal_smoothness, temporal_smoothness_trapz)


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


@METRICS.register_module()
class TemporalSegMetric(BaseMetric):
    """Evaluate whole ED -> ES sequences from per-frame predictions.

    Works for any model whose test samples are single frames carrying
    ``patient``, ``view``, ``frame_index``, ``num_frames`` and ``spacing``
    in their metainfo: mmseg 2D models tested on
    ``CAMUSDataset(instants='all')`` (every frame), and
    :class:`~mmecho.models.SequenceSegmentor` (2D+time), which emits one
    sample per frame. Predictions and references are compared at the
    original resolution.

    Per sequence: ``{S}_{ED,ES}_{Dice,HD,MAD}`` (frame 0 and T-1; mm),
    ``{S}_smooth`` (Eq. 2 of the area curve in cm^2, so cm^4, lower is
    smoother) for the prediction and ``{S}_smooth_ref`` for the reference;
    ``{S}_smooth_px_trapz`` / ``{S}_smooth_px_trapz_ref``: Eq. 2 as paper
    001's reference code computed it (areas in pixels of the evaluated
    resolution, ``np.diff(a, 2)**2`` integrated by the trapezoidal rule,
    pixels^2 per frame^3; see
    :func:`~mmecho.evaluation.functional.temporal_smoothness_trapz`);
    and ``{S}_Dice_all`` over every frame whose reference is labelled.
    Per patient with both views: EDV, ESV (ml) and EF (%) by Simpson's
    biplane method from the LV masks, summarised by corr, bias, MAE.

    Summary keys (``seq/...``): the means of the above, ``EF_corr``,
    ``EF_bias``, ``EF_MAE`` (and EDV/ESV), ``n_sequences``, ``n_patients``.

    Args:
        structures (dict): Name -> labels (default LV, MYO, LA).
        lv_structure (str): Structure used for the volumes.
        ignore_index (int): Reference value of unlabelled frames/pixels.
        output_dir (str, optional): Writes ``per_sequence.csv``,
            ``clinical.csv``, ``summary.json`` and ``area_curves/`` (one
            plot per sequence, prediction against reference).
        plot_area_curves (bool): Write the per-sequence plots.
    """
    default_prefix = 'seq'

    def __init__(self,
                 structures: Dict[str, Sequence[int]] = CAMUS_LABEL_STRUCTURES,
                 lv_structure: str = 'LV',
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 plot_area_curves: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.structures = {k: tuple(v) for k, v in structures.items()}
        self.lv_structure = lv_structure
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        self.plot_area_curves = plot_area_curves

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            for key in ('patient', 'view', 'frame_index', 'num_frames'):
                if ds.get(key) is None:
                    raise KeyError(
                        f'TemporalSegMetric needs "{key}" in the sample '
                        'metainfo: test on CAMUSDataset(instants="all") with '
                        f'"{key}" in PackSegInputs meta_keys, or with a '
                        'SequenceSegmentor')
            self.results.append(
                dict(
                    patient=ds['patient'],
                    view=ds['view'],
                    t=int(ds['frame_index']),
                    T=int(ds['num_frames']),
                    spacing=tuple(
                        float(v) for v in ds.get('spacing', (1, 1))[-2:]),
                    pred=_np(ds['pred_sem_seg']['data'])[0].astype(np.uint8),
                    gt=_np(ds['gt_sem_seg']['data'])[0].astype(np.uint8)))

    def evaluate(self, size: int) -> dict:
        """As :meth:`BaseMetric.evaluate`, but ``size`` counts frames: a
        :class:`SequenceSegmentor` emits many frame samples per dataset item
        and mmengine would keep only the first ``size`` of them."""
        import torch
        from mmengine.dist import all_reduce
        n = torch.tensor(len(self.results), dtype=torch.long)
        all_reduce(n)
        return super().evaluate(max(int(n), size))

    # ------------------------------------------------------------------
    def _sequences(self, results: List[dict]) -> Dict:
        seqs = defaultdict(dict)
        for r in results:
            seqs[(r['patient'], r['view'])][r['t']] = r
        out = {}
        for key, frames in seqs.items():
            T = next(iter(frames.values()))['T']
            missing = sorted(set(range(T)) - set(frames))
            if missing:
                raise ValueError(
                    f'sequence {key[0]} {key[1]}: frames {missing} of {T} '
                    'have no prediction; evaluate every frame (instants='
                    '"all") with an unshuffled loader')
            out[key] = dict(
                pred=np.stack([frames[t]['pred'] for t in range(T)]),
                gt=np.stack([frames[t]['gt'] for t in range(T)]),
                spacing=frames[0]['spacing'])
        return out

    def evaluate_sequence(self, pred: np.ndarray, gt: np.ndarray,
                          spacing) -> dict:
        """All quantities of one ``(T, H, W)`` prediction / reference."""
        T = pred.shape[0]
        rec = {}
        labelled = [
            t for t in range(T) if not (gt[t] == self.ignore_index).all()
        ]
        for name, labs in self.structures.items():
            for inst, t in (('ED', 0), ('ES', T - 1)):
                if t not in labelled:
                    continue
                p, r = np.isin(pred[t], labs), np.isin(gt[t], labs)
                hd, mad = hausdorff_and_mad(p, r, spacing)
                rec[f'{name}_{inst}_Dice'] = dice(p, r)
                rec[f'{name}_{inst}_HD'] = hd
                rec[f'{name}_{inst}_MAD'] = mad
            rec[f'{name}_Dice_all'] = float(
                np.mean([
                    dice(np.isin(pred[t], labs), np.isin(gt[t], labs))
                    for t in labelled
                ])) if labelled else float('nan')
            a_pred = area_curve(pred, labs, spacing) / 100.0  # cm^2
            rec[f'{name}_smooth'] = temporal_smoothness(a_pred)
            # paper 001's reference: pixel counts, trapezoid
            rec[f'{name}_smooth_px_trapz'] = temporal_smoothness_trapz(
                area_curve(pred, labs))
            rec[f'{name}_area'] = a_pred.tolist()
            if len(labelled) == T:
                a_ref = area_curve(gt, labs, spacing) / 100.0
                rec[f'{name}_smooth_ref'] = temporal_smoothness(a_ref)
                rec[f'{name}_smooth_px_trapz_ref'] = \
                    temporal_smoothness_trapz(area_curve(gt, labs))
                rec[f'{name}_area_ref'] = a_ref.tolist()
        return rec

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        seqs = self._sequences(results)
        per_seq = {}
        for key, s in sorted(seqs.items()):
            per_seq[key] = self.evaluate_sequence(s['pred'], s['gt'],
                                                  s['spacing'])
        out = {}
        scalar_keys = sorted({
            k
            for r in per_seq.values()
            for k, v in r.items() if not isinstance(v, list)
        })
        for k in scalar_keys:
            vals = [r[k] for r in per_seq.values() if k in r]
            vals = [v for v in vals if np.isfinite(v)]
            if vals:
                out[k] = float(np.mean(vals))
        out['n_sequences'] = len(per_seq)
        clinical = self._clinical(seqs)
        for ind, s in agreement(clinical['pairs']).items():
            for k in ('corr', 'bias', 'MAE', 'sd'):
                out[f'{ind}_{k}'] = s[k]
        out['n_patients'] = len(clinical['rows'])
        logger = MMLogger.get_current_instance()
        logger.info('Sequence metrics over %d sequences:\n%s', len(per_seq),
                    self._table(out))
        if self.output_dir:
            self._write(per_seq, clinical, out)
        return out

    def _clinical(self, seqs: Dict) -> dict:
        lv = self.structures[self.lv_structure]
        by_patient = defaultdict(dict)
        for (pid, view), s in seqs.items():
            by_patient[pid][view] = s
        rows, pairs = [], defaultdict(list)
        for pid, views in sorted(by_patient.items()):
            if not {'2CH', '4CH'} <= set(views):
                continue
            a4, a2 = views['4CH'], views['2CH']
            if any((v['gt'][i] == self.ignore_index).all() for v in (a4, a2)
                   for i in (0, -1)):
                continue
            row = dict(patient=pid)
            for src in ('pred', 'gt'):
                m = {
                    k: np.isin(v[src], lv)
                    for k, v in (('4CH', a4), ('2CH', a2))
                }
                r = biplane_ef(m['4CH'][0], m['4CH'][-1], m['2CH'][0],
                               m['2CH'][-1], a4['spacing'], a2['spacing'])
                for ind in ('EDV', 'ESV', 'EF'):
                    row[f'{ind}_{src}'] = float(r[ind])
            rows.append(row)
            for ind in ('EDV', 'ESV', 'EF'):
                if np.isfinite(row[f'{ind}_pred']) and np.isfinite(
                        row[f'{ind}_gt']):
                    pairs[ind].append((row[f'{ind}_pred'], row[f'{ind}_gt']))
        return dict(rows=rows, pairs=dict(pairs))

    def _table(self, out: dict) -> str:
        lines = [
            'structure  ED Dice  ES Dice  ED HD  ES HD  smooth(cm^4)  '
            'smooth ref  smooth(px^2,trapz)  px ref'
        ]
        for n in self.structures:
            lines.append(
                f'{n:<9}  {out.get(f"{n}_ED_Dice", float("nan")):7.3f}  '
                f'{out.get(f"{n}_ES_Dice", float("nan")):7.3f}  '
                f'{out.get(f"{n}_ED_HD", float("nan")):5.2f}  '
                f'{out.get(f"{n}_ES_HD", float("nan")):5.2f}  '
                f'{out.get(f"{n}_smooth", float("nan")):12.4g}  '
                f'{out.get(f"{n}_smooth_ref", float("nan")):10.4g}  '
                f'{out.get(f"{n}_smooth_px_trapz", float("nan")):18.4g}  '
                f'{out.get(f"{n}_smooth_px_trapz_ref", float("nan")):10.4g}')
        if 'EF_corr' in out:
            lines.append(f'EF corr {out["EF_corr"]:.3f}  bias '
                         f'{out["EF_bias"]:.2f}  MAE {out["EF_MAE"]:.2f} '
                         f'(n={out["n_patients"]})')
        return '\n'.join(lines)

    def _write(self, per_seq: Dict, clinical: dict, out: dict) -> None:
        d = self.output_dir
        os.makedirs(d, exist_ok=True)
        rows = []
        for (pid, view), r in per_seq.items():
            rows.append(
                dict(
                    patient=pid,
                    view=view,
                    **{
                        k: v
                        for k, v in r.items() if not isinstance(v, list)
                    }))
        fields = sorted({k
                         for r in rows
                         for k in r},
                        key=lambda k: (k not in ('patient', 'view'), k))
        with atomic_write(osp.join(d, 'per_sequence.csv'), 'w') as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        if clinical['rows']:
            with atomic_write(osp.join(d, 'clinical.csv'), 'w') as f:
                w = csv.DictWriter(f, fieldnames=list(clinical['rows'][0]))
                w.writeheader()
                w.writerows(clinical['rows'])
        atomic_write_text(
            osp.join(d, 'summary.json'), json.dumps(out, indent=1))
        if self.plot_area_curves:
            self._plot_curves(per_seq, osp.join(d, 'area_curves'))

    def _plot_curves(self, per_seq: Dict, folder: str) -> None:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        os.makedirs(folder, exist_ok=True)
        for (pid, view), r in per_seq.items():
            fig, ax = plt.subplots(figsize=(5, 3.2))
            for i, n in enumerate(self.structures):
                c = f'C{i}'
                ax.plot(r[f'{n}_area'], color=c, label=f'{n} prediction')
                if f'{n}_area_ref' in r:
                    ax.plot(
                        r[f'{n}_area_ref'],
                        color=c,
                        ls='--',
                        label=f'{n} reference')
            ax.set_xlabel('frame (ED -> ES)')
            ax.set_ylabel('area (cm$^2$)')
            ax.set_title(f'{pid} {view}')
            ax.legend(fontsize=7)
            fig.tight_layout()
            with atomic_write(
                    osp.join(folder, f'{pid}_{view}.png'), mode=None) as tmp:
                fig.savefig(tmp, dpi=100)
            plt.close(fig)
