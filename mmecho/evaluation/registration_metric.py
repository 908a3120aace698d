# Copyright (c) mmecho contributors. All rights reserved.
"""Validation metric of pairwise registration models."""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmecho.registry import METRICS
from .echo_seg_metric import CAMUS_LABEL_STRUCTURES
from .functional import dice


@METRICS.register_module()
class RegistrationMetric(BaseMetric):
    """NCC before/after warping, folding and label overlap.

    Consumes the dicts of :class:`~mmecho.models.PairwiseRegistrator` in
    ``predict`` mode. Keys (``reg/...``): ``NCC_before``, ``NCC_after``,
    ``folding_pct`` (pixels with a non-positive Jacobian determinant, %),
    and over the labelled pairs ``{S}_Dice_before`` (moving vs fixed labels)
    and ``{S}_Dice_after`` (warped moving labels vs fixed), with ``S`` the
    structures (label lists), and ``n_labelled``.

    Args:
        structures (dict): Name -> labels, e.g. CAMUS ``LV``, ``MYO``,
            ``LA``.
    """
    default_prefix = 'reg'

    def __init__(self,
                 structures: Dict[str, Sequence[int]] = CAMUS_LABEL_STRUCTURES,
                 collect_device: str = 'cpu',
                 prefix=None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.structures = {k: tuple(v) for k, v in structures.items()}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for rec in data_samples:
            out = dict(
                ncc_before=rec['ncc_before'],
                ncc_after=rec['ncc_after'],
                folding=rec['folding'])
            if 'labels_warped' in rec:
                f = np.asarray(rec['labels_fixed'])
                m = np.asarray(rec['labels_moving'])
                w = np.asarray(rec['labels_warped'])
                for name, labs in self.structures.items():
                    ref = np.isin(f, labs)
                    out[f'{name}_before'] = dice(np.isin(m, labs), ref)
                    out[f'{name}_after'] = dice(np.isin(w, labs), ref)
            self.results.append(out)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        out = dict(
            NCC_before=float(np.mean([r['ncc_before'] for r in results])),
            NCC_after=float(np.mean([r['ncc_after'] for r in results])),
            folding_pct=100 * float(np.mean([r['folding'] for r in results])))
        lab = [
            r for r in results if f'{next(iter(self.structures))}_after' in r
        ]
        out['n_labelled'] = len(lab)
        for name in self.structures:
            for when in ('before', 'after'):
                vals = [r[f'{name}_{when}'] for r in lab]
                if vals:
                    out[f'{name}_Dice_{when}'] = float(np.mean(vals))
        MMLogger.get_current_instance().info(
            'registration: NCC %.4f -> %.4f, folding %.3f %%%s',
            out['NCC_before'], out['NCC_after'], out['folding_pct'],
            ''.join(f', {n} Dice {out[f"{n}_Dice_before"]:.3f} -> '
                    f'{out[f"{n}_Dice_after"]:.3f}' for n in self.structures
                    if f'{n}_Dice_after' in out))
        return out
