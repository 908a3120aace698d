# Copyright (c) mmecho contributors. All rights reserved.
"""CAMUS pseudo-labels (paper 001): the manual ED and ES label maps
propagated through each half sequence, written as
``{patient}_{view}_half_sequence_pseudo.nii[.gz]`` in the CAMUS layout."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from mmecho.datasets.camus import CAMUS_VIEWS, CAMUSFiles, resolve_patients
from .driver import (UNLABELLED, Propagation, PseudoLabelAdapter,
                     PseudoLabelFile, PseudoLabelJob)

PSEUDO_NAME = 'half_sequence_pseudo'


@dataclass
class CAMUSAdapter(PseudoLabelAdapter):
    """Every selected patient and view of a CAMUS root, one file each
    (manifest key ``{patient}_{view}``).

    The file has the shape of the (half) sequence ``(T, H, W)``: the
    propagated labels from ED to ES, the manual ED and ES maps kept at ED
    and ES (after propagation and closing, as in the M&Ms files and the
    nnU-Net export), :data:`~.driver.UNLABELLED` elsewhere (2019 full
    sequences); ``.nii`` when the sequence is ``.nii``, else ``.nii.gz``.
    The manifest record holds ``frames`` (T), ``ed_index``, ``es_index``.

    Args:
        data_root (str): CAMUS root.
        patients_dir (str): ``'database_nifti'`` (2023) or ``'training'``.
        split (str | list, optional): Split file(s) relative to
            ``data_root`` or patient ids; None: every patient.
        views (Sequence[str]): Any of ``'2CH'``, ``'4CH'``.
    """
    data_root: str
    patients_dir: str = 'database_nifti'
    split: Union[None, str, Sequence[str]] = None
    views: Sequence[str] = CAMUS_VIEWS

    dataset = 'camus'
    default_mode = 'bidirectional'

    def jobs(self, out_root: Optional[str]) -> List[PseudoLabelJob]:
        jobs = []
        for pid in resolve_patients(self.data_root, self.patients_dir,
                                    self.split):
            for view in self.views:
                files = CAMUSFiles(self.data_root, self.patients_dir, pid,
                                   view)
                ext = '.nii' if files.sequence(gt=False).endswith('.nii') \
                    else '.nii.gz'
                path = files.label_stem(out_root or None) + \
                    f'_{PSEUDO_NAME}{ext}'
                jobs.append(PseudoLabelJob(f'{pid}_{view}', path, files))
        return jobs

    def make(self, job: PseudoLabelJob, fields_fn: Callable,
             propagation: Propagation) -> PseudoLabelFile:
        files = job.source
        seq = files.ed_to_es()
        ed_lab, es_lab = files.instant_labels(seq['frames'].shape[1:])
        part = propagation(fields_fn, seq['frames'], ed_lab, es_lab)
        # the manual labels stay (after propagation and closing), as in the
        # M&Ms files and the nnU-Net export
        part[0], part[-1] = ed_lab, es_lab
        out = np.full(seq['shape'], UNLABELLED, np.uint8)
        out[seq['ed']:seq['es'] + 1] = part
        T = seq['shape'][0]
        record = dict(frames=T, ed_index=seq['ed'], es_index=seq['es'])
        return PseudoLabelFile(out, seq['file_spacing'], record, T)
