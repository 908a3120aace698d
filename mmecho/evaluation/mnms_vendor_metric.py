# Copyright (c) mmecho contributors. All rights reserved.
"""Dice per region and per vendor on M&Ms (paper 003, Table 1)."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmecho.registry import METRICS

MNMS_REGIONS = dict(LV=1, MYO=2, RV=3)


@METRICS.register_module()
class MnMsVendorMetric(BaseMetric):
    """Volume Dice of each region, averaged per region and per vendor.

    Slices (samples with ``subject``, ``vendor`` and ``instant`` in their
    metainfo) are gathered into volumes (subject x instant); for every
    volume and region the 3D Dice ``2|P n R| / (|P| + |R|)`` is computed
    (a region absent from both counts as 1). Keys (``mnms/...``): one per
    region (mean over volumes), one per vendor (mean over its volumes and
    the regions), ``Total`` (mean over all volumes and regions) and
    ``n_volumes``.

    Args:
        regions (dict): Region name -> label.
        vendors (tuple): Vendor letters always reported (NaN if absent).
        output_dir (str, optional): Writes ``summary.json`` and
            ``per_volume.csv`` there (atomically).
    """
    default_prefix = 'mnms'

    def __init__(self,
                 regions: Dict[str, int] = MNMS_REGIONS,
                 vendors: Sequence[str] = ('A', 'B', 'C', 'D'),
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix=None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.regions = dict(regions)
        self.vendors = tuple(vendors)
        self.output_dir = output_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            for key in ('subject', 'vendor', 'instant'):
                if ds.get(key) is None:
                    raise KeyError(
                        f'MnMsVendorMetric needs "{key}" in the sample '
                        'metainfo (add it to PackSegInputs meta_keys)')
            pred = ds['pred_sem_seg']['data'][0].cpu().numpy()
            gt = ds['gt_sem_seg']['data'][0].cpu().numpy()
            rec = dict(
                volume=(ds['subject'], ds['instant']), vendor=ds['vendor'])
            for name, lab in self.regions.items():
                p, r = pred == lab, gt == lab
                rec[name] = (int((p & r).sum()), int(p.sum()), int(r.sum()))
            self.results.append(rec)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        vols = defaultdict(lambda: defaultdict(lambda: np.zeros(3)))
        vendor_of = {}
        for r in results:
            vendor_of[r['volume']] = r['vendor']
            for name in self.regions:
                vols[r['volume']][name] += r[name]
        per_volume = {}
        for v, regs in vols.items():
            d = {}
            for name, (inter, ps, rs) in regs.items():
                d[name] = 1.0 if ps + rs == 0 else 2 * inter / (ps + rs)
            per_volume[v] = d
        out = {}
        for name in self.regions:
            out[name] = float(np.mean([d[name] for d in per_volume.values()]))
        for vendor in self.vendors:
            vals = [
                np.mean(list(d.values())) for v, d in per_volume.items()
                if vendor_of[v] == vendor
            ]
            out[vendor] = float(np.mean(vals)) if vals else float('nan')
        out['Total'] = float(
            np.mean([np.mean(list(d.values())) for d in per_volume.values()]))
        out['n_volumes'] = len(per_volume)
        MMLogger.get_current_instance().info('M&Ms Dice: ' + '  '.join(
            f'{k} {v:.3f}' for k, v in out.items() if k != 'n_volumes') +
                                             f'  ({len(per_volume)} volumes)')
        if self.output_dir:
            self._write(out, per_volume, vendor_of)
        return out

    def _write(self, out, per_volume, vendor_of) -> None:
        import json
        import os
        import os.path as osp

        from mmecho.utils import atomic_write_text
        os.makedirs(self.output_dir, exist_ok=True)
        atomic_write_text(
            osp.join(self.output_dir, 'summary.json'),
            json.dumps(out, indent=1))
        lines = ['subject,instant,vendor,' + ','.join(self.regions)]
        for (subject, instant), d in sorted(per_volume.items()):
            lines.append(f'{subject},{instant},'
                         f'{vendor_of[(subject, instant)]},' +
                         ','.join(f'{d[n]:.4f}' for n in self.regions))
        atomic_write_text(
            osp.join(self.output_dir, 'per_volume.csv'),
            '\n'.join(lines) + '\n')
