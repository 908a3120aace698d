# Copyright (c) mmecho contributors. All rights reserved.
"""Echo-grade segmentation metrics for CAMUS-style label maps."""
import csv
import io
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmecho.measurement.agreement import agreement, bland_altman_figure
from mmecho.measurement.simpson import (biplane_volume_from_discs,
                                        disc_diameters)
from mmecho.registry import METRICS
from mmecho.utils import atomic_write_text
from .functional import (OutlierCriteria, convexity, dice, hausdorff_and_mad,
                         simplicity)

#: the three labelled CAMUS structures (the sequence and registration
#: metrics report these); ``CAMUS_STRUCTURES`` adds the epicardium
CAMUS_LABEL_STRUCTURES = dict(LV=(1, ), MYO=(2, ), LA=(3, ))
CAMUS_STRUCTURES = dict(CAMUS_LABEL_STRUCTURES, EPI=(1, 2))
INSTANTS = ('ED', 'ES')


def _as_numpy(x) -> np.ndarray:
    return x.cpu().numpy() if hasattr(x, 'cpu') else np.asarray(x)


@METRICS.register_module()
class EchoSegMetric(BaseMetric):
    """Dice, MAD and HD (mm) per structure and instant, shape descriptors,
    RU-Net outlier counts, thesis-style pixel metrics and, per patient,
    Simpson-biplane EDV/ESV/EF against the reference.

    Everything is computed on the label maps at the original resolution
    (``pred_sem_seg`` as the segmentor returns it, ``gt_sem_seg`` loaded after
    the resize of the test pipeline) with the pixel ``spacing`` (row, col mm)
    of the metainfo (1 mm when absent).

    Missing structures are never dropped: a structure absent from both maps
    scores Dice 1 and distances 0; absent from exactly one, Dice 0 and
    HD = MAD = the image diagonal (mm). Such cases are counted
    (``missing_pred``, ``missing_ref``). A missing predicted structure has
    simplicity and convexity 0, i.e. is an anatomical outlier.

    Args:
        structures (dict): name -> labels forming it (default: LV cavity 1,
            myocardium 2, LA 3, LV epicardium = 1 + 2).
        num_classes (int): Label values 0..num_classes-1 (0 background).
        ignore_index (int): Reference label ignored by the pixel metrics.
        outlier_criteria (dict, optional): Overrides of
            :class:`OutlierCriteria` (RU-Net Table I by default).
        lv_structure (str): Structure whose masks give the volumes.
        mad_mode (str): ``'mean_of_means'`` (mean of the two directed mean
            contour distances) or ``'pooled'`` (medpy/MONAI's symmetric
            mean), see :func:`hausdorff_and_mad`.
        output_dir (str, optional): Where to write ``per_image.csv``,
            ``summary.json``, ``clinical.csv`` and ``bland_altman.png``.
        collect_device, prefix: see :class:`BaseMetric` (prefix ``echo``).

    Summary keys (``echo/...``): ``aAcc``, ``mIoU``, ``mRecall``, ``mDice``
    (over all classes, background included, as mmseg's IoUMetric; fractions),
    ``{S}_Dice``/``_MAD``/``_HD`` over all images and ``{S}_{ED,ES}_...`` per
    instant (plus ``_sd``), ``geo_outliers`` / ``ana_outliers`` (counts) and
    ``_pct``, ``missing_pred``, ``missing_ref``, and with at least one
    complete patient (A2C + A4C at ED and ES) ``{EDV,ESV,EF}_{corr,bias,sd,
    MAE}`` and ``n_patients``.
    """
    default_prefix = 'echo'

    def __init__(self,
                 structures: Dict[str, Sequence[int]] = CAMUS_STRUCTURES,
                 num_classes: int = 4,
                 ignore_index: int = 255,
                 outlier_criteria: Optional[dict] = None,
                 lv_structure: str = 'LV',
                 mad_mode: str = 'mean_of_means',
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.structures = {k: tuple(v) for k, v in structures.items()}
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.criteria = OutlierCriteria(**(outlier_criteria or {}))
        self.lv_structure = lv_structure
        self.mad_mode = mad_mode
        self.output_dir = output_dir

    # ------------------------------------------------------------------
    def evaluate_pair(self,
                      pred: np.ndarray,
                      ref: np.ndarray,
                      spacing: Sequence[float] = (1.0, 1.0),
                      instant: str = 'ED') -> dict:
        """All per-image quantities of one ``(H, W)`` prediction against its
        ``(H, W)`` reference."""
        if pred.shape != ref.shape:
            raise ValueError(
                f'prediction {pred.shape} and reference {ref.shape} differ: '
                'load the label map after the Resize of the test pipeline so '
                'it stays at the original resolution')
        rec = dict(instant=instant)
        valid = ref != self.ignore_index
        k = self.num_classes
        cm = np.bincount(
            ref[valid].astype(np.int64) * k + np.clip(pred[valid], 0, k - 1),
            minlength=k * k).reshape(k, k)
        rec['confusion'] = cm
        dists, shapes = {}, {}
        for name, labels in self.structures.items():
            p = np.isin(pred, labels)
            r = np.isin(ref, labels)
            hd, mad = hausdorff_and_mad(p, r, spacing, self.mad_mode)
            rec[f'{name}_Dice'] = dice(p, r)
            rec[f'{name}_HD'] = hd
            rec[f'{name}_MAD'] = mad
            rec[f'{name}_Sp'] = simplicity(p, spacing)
            rec[f'{name}_Cx'] = convexity(p)
            rec[f'{name}_missing_pred'] = bool(r.any() and not p.any())
            rec[f'{name}_missing_ref'] = bool(p.any() and not r.any())
            dists[name] = (mad, hd)
            shapes[name] = (rec[f'{name}_Sp'], rec[f'{name}_Cx'])
        rec['geo_outlier'] = self.criteria.is_geometric_outlier(instant, dists)
        rec['ana_outlier'] = self.criteria.is_anatomical_outlier(shapes)
        return rec

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            pred = _as_numpy(ds['pred_sem_seg']['data'])[0].astype(np.int64)
            ref = _as_numpy(ds['gt_sem_seg']['data'])[0].astype(np.int64)
            spacing = tuple(ds.get('spacing', (1.0, 1.0)))
            instant = str(ds.get('instant', 'ED'))
            rec = self.evaluate_pair(pred, ref, spacing, instant)
            rec.update(
                img_path=ds.get('img_path', ''),
                patient=ds.get('patient'),
                view=ds.get('view'),
                frame_index=ds.get('frame_index'))
            if instant in INSTANTS and rec['patient'] is not None:
                lv = self.structures[self.lv_structure]
                rec['discs_pred'] = disc_diameters(np.isin(pred, lv), spacing)
                rec['discs_ref'] = disc_diameters(np.isin(ref, lv), spacing)
            self.results.append(rec)

    # ------------------------------------------------------------------
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        out = {}
        cm = sum(r['confusion'] for r in results)
        tp = np.diag(cm).astype(np.float64)
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = tp / (cm.sum(0) + cm.sum(1) - tp)
            recall = tp / cm.sum(1)
            dsc = 2 * tp / (cm.sum(0) + cm.sum(1))
        out['aAcc'] = float(tp.sum() / max(cm.sum(), 1))
        out['mIoU'] = float(np.nanmean(iou))
        out['mRecall'] = float(np.nanmean(recall))
        out['mDice'] = float(np.nanmean(dsc))
        n = len(results)
        for name in self.structures:
            for q in ('Dice', 'MAD', 'HD'):
                vals = np.array([r[f'{name}_{q}'] for r in results])
                out[f'{name}_{q}'] = float(vals.mean())
                out[f'{name}_{q}_sd'] = float(vals.std())
                for inst in INSTANTS:
                    v = np.array([
                        r[f'{name}_{q}'] for r in results
                        if r['instant'] == inst
                    ])
                    if len(v):
                        out[f'{name}_{inst}_{q}'] = float(v.mean())
                        out[f'{name}_{inst}_{q}_sd'] = float(v.std())
        out['geo_outliers'] = int(sum(r['geo_outlier'] for r in results))
        out['ana_outliers'] = int(sum(r['ana_outlier'] for r in results))
        out['geo_outliers_pct'] = 100.0 * out['geo_outliers'] / max(n, 1)
        out['ana_outliers_pct'] = 100.0 * out['ana_outliers'] / max(n, 1)
        out['missing_pred'] = int(
            sum(r[f'{s}_missing_pred'] for r in results
                for s in self.structures))
        out['missing_ref'] = int(
            sum(r[f'{s}_missing_ref'] for r in results
                for s in self.structures))
        clinical = self._clinical(results)
        if clinical['rows']:
            stats = agreement(clinical['pairs'])
            for ind, s in stats.items():
                for key in ('corr', 'bias', 'sd', 'MAE'):
                    out[f'{ind}_{key}'] = s[key]
            out['n_patients'] = len(clinical['rows'])
        logger.info('Echo metrics over %d images:\n%s', n, self._table(out))
        if self.output_dir:
            self._write(results, out, clinical)
        return out

    def _clinical(self, results: List[dict]) -> dict:
        discs = defaultdict(dict)
        for r in results:
            if 'discs_pred' in r:
                discs[r['patient']][(r['view'], r['instant'])] = r
        rows, pairs = [], defaultdict(list)
        for pid in sorted(discs):
            d = discs[pid]
            if not all((v, i) in d for v in ('2CH', '4CH') for i in INSTANTS):
                continue
            row = dict(patient=pid)
            for src in ('pred', 'ref'):
                vol = {}
                for inst in INSTANTS:
                    a, la = d[('4CH', inst)][f'discs_{src}']
                    b, lb = d[('2CH', inst)][f'discs_{src}']
                    vol[inst] = biplane_volume_from_discs(a, la, b, lb)
                row[f'EDV_{src}'] = vol['ED']
                row[f'ESV_{src}'] = vol['ES']
                row[f'EF_{src}'] = (100.0 * (vol['ED'] - vol['ES']) /
                                    vol['ED'] if vol['ED'] > 0 else 0.0)
            rows.append(row)
            for ind in ('EDV', 'ESV', 'EF'):
                pairs[ind].append((row[f'{ind}_pred'], row[f'{ind}_ref']))
        return dict(rows=rows, pairs=dict(pairs))

    def _table(self, out: dict) -> str:
        lines = ['structure  instant   Dice    MAD(mm)  HD(mm)']
        for name in self.structures:
            for inst in INSTANTS + ('all', ):
                key = name if inst == 'all' else f'{name}_{inst}'
                if f'{key}_Dice' not in out:
                    continue
                lines.append(
                    f'{name:<10} {inst:<8} {out[key + "_Dice"]:.3f}  '
                    f'{out[key + "_MAD"]:7.2f}  {out[key + "_HD"]:6.2f}')
        lines.append(
            f'outliers: geometric {out["geo_outliers"]} '
            f'({out["geo_outliers_pct"]:.1f} %), anatomical '
            f'{out["ana_outliers"]} ({out["ana_outliers_pct"]:.1f} %)')
        if 'EF_corr' in out:
            lines.append(
                f'clinical ({out["n_patients"]} patients): EF corr '
                f'{out["EF_corr"]:.3f} bias {out["EF_bias"]:.2f} % MAE '
                f'{out["EF_MAE"]:.2f} %; EDV MAE {out["EDV_MAE"]:.2f} ml; '
                f'ESV MAE {out["ESV_MAE"]:.2f} ml')
        return '\n'.join(lines)

    def _write(self, results: List[dict], out: dict, clinical: dict) -> None:
        skip = {'confusion', 'discs_pred', 'discs_ref'}
        keys = [k for k in results[0] if k not in skip] if results else []
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys, extrasaction='ignore')
        w.writeheader()
        for r in results:
            w.writerow({k: r.get(k) for k in keys})
        atomic_write_text(
            osp.join(self.output_dir, 'per_image.csv'), buf.getvalue())
        atomic_write_text(
            osp.join(self.output_dir, 'summary.json'),
            json.dumps(out, indent=1, sort_keys=True))
        if clinical['rows']:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(clinical['rows'][0]))
            w.writeheader()
            w.writerows(clinical['rows'])
            atomic_write_text(
                osp.join(self.output_dir, 'clinical.csv'), buf.getvalue())
            bland_altman_figure(
                clinical['pairs'], ['EDV', 'ESV', 'EF'],
                osp.join(self.output_dir, 'bland_altman.png'),
                units=dict(EDV='ml', ESV='ml', EF='%'))
