# Copyright (c) mmecho contributors. All rights reserved.
"""Registration pseudo-labels (papers 001 and 003): one driver
(:func:`generate_pseudo_labels`: manifest, resume, atomic files, model
identity) and one adapter per dataset (:class:`CAMUSAdapter`,
:class:`MnMsAdapter`: which files, how each is made)."""
from .camus_adapter import PSEUDO_NAME, CAMUSAdapter
from .driver import (MANIFEST, UNLABELLED, Propagation, PseudoLabelAdapter,
                     PseudoLabelFile, PseudoLabelJob, file_sha256,
                     generate_pseudo_labels, model_identity)
from .mnms_adapter import MnMsAdapter
from .model import load_registration_model, model_fields_fn

__all__ = [
    'generate_pseudo_labels', 'Propagation', 'PseudoLabelAdapter',
    'PseudoLabelJob', 'PseudoLabelFile', 'CAMUSAdapter', 'MnMsAdapter',
    'PSEUDO_NAME', 'MANIFEST', 'UNLABELLED', 'file_sha256', 'model_identity',
    'load_registration_model', 'model_fields_fn'
]
