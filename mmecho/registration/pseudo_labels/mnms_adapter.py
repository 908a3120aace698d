# Copyright (c) mmecho contributors. All rights reserved.
"""M&Ms pseudo-labels (paper 003): the ED labels of every short-axis slice
propagated to the frames up to ES (``'forward'``, the paper's choice), the
ES labels back (``'backward'``) or both (``'bidirectional'``), written as
``{code}_sa_pseudo.nii.gz``."""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from mmecho.datasets.mnms import (MnMsReader, frames_ed_to_es,
                                  pseudo_label_path, to_uint8)
from mmecho.evaluation.functional import dice
from .driver import (UNLABELLED, Propagation, PseudoLabelAdapter,
                     PseudoLabelFile, PseudoLabelJob)


@dataclass
class MnMsAdapter(PseudoLabelAdapter):
    """Every selected subject of an M&Ms root, one file each (manifest key
    the subject's code).

    The file has the 4D shape of ``_sa`` ``(T, Z, H, W)``: frames outside
    ED..ES (cyclically) are :data:`~.driver.UNLABELLED`, ED and ES keep the
    manual labels. The manifest record holds ``frames`` (ED..ES), ``ed``,
    ``es`` and ``es_dice``: per region, the Dice of the propagated labels
    at ES against the ES reference for each slice labelled at ED (forward
    mode only: the check paper 003 relies on; in the other modes the ES
    frame is the ES reference itself).

    Args:
        data_root (str): The M&Ms root.
        info_file (str): The information CSV, relative to ``data_root``.
        splits (Sequence[str], optional): Split folders, e.g.
            ``('Training/Labeled', )``; None: all.
        vendors (Sequence[str], optional): e.g. ``('A', 'B')``.
    """
    data_root: str
    info_file: str
    splits: Optional[Sequence[str]] = None
    vendors: Optional[Sequence[str]] = None

    dataset = 'mnms'
    default_mode = 'forward'

    def jobs(self, out_root: Optional[str]) -> List[PseudoLabelJob]:
        reader = MnMsReader(self.data_root, self.info_file)
        return [
            PseudoLabelJob(code, pseudo_label_path(reader, code, out_root),
                           (reader, code))
            for code in reader.subjects(self.splits, self.vendors)
        ]

    def make(self, job: PseudoLabelJob, fields_fn: Callable,
             propagation: Propagation) -> PseudoLabelFile:
        reader, code = job.source
        d = reader.load(code)
        if d['label'] is None:
            raise ValueError(f'{code}: no {code}_sa_gt file to propagate')
        image = to_uint8(d['image'])
        T, Z = image.shape[:2]
        frames = frames_ed_to_es(d['ed'], d['es'], T)
        out = np.full(image.shape, UNLABELLED, np.uint8)
        subject_dice = {c: [] for c in range(1, propagation.num_classes)}
        for z in range(Z):
            ed_lab = d['label'][d['ed'], z]
            es_lab = d['label'][d['es'], z]
            part = propagation(fields_fn, image[frames, z], ed_lab, es_lab)
            if propagation.mode == 'forward' and ed_lab.any():
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
        return PseudoLabelFile(out, d['spacing'], record, len(frames) * Z)

    def summary(self, records: Dict[str, Dict],
                propagation: Propagation) -> Dict:
        """``es_dice``: region -> mean Dice at ES over every slice of every
        job (NaN where none was measured)."""
        es_dice = {c: [] for c in range(1, propagation.num_classes)}
        for record in records.values():
            for c, v in record.get('es_dice', {}).items():
                es_dice[int(c)] += v
        return dict(
            es_dice={
                c: float(np.mean(v)) if v else float('nan')
                for c, v in es_dice.items()
            })
