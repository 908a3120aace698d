# Copyright (c) mmecho contributors. All rights reserved.
"""The CAMUS task of the grid thesis (paper 002, appendix): the LV cavity,
binary, on frame index 2 of every apical two-chamber half sequence."""
from typing import Sequence

from mmecho.registry import DATASETS
from .dataset import CAMUSDataset

THESIS_LV_CLASSES = ('background', 'LV')
THESIS_LV_PALETTE = [[0, 0, 0], [255, 0, 0]]


@DATASETS.register_module()
class CAMUSThesisDataset(CAMUSDataset):
    """One image per patient: frame ``frames[0]`` (2) of
    ``patientXXXX_2CH_half_sequence`` and the same frame of its ``_gt``, as
    the thesis exported them. Two classes: background and the LV cavity;
    the pipeline binarises the label map (``BinarizeLabel(foreground=(1,
    ))``: myocardium and atrium become background, as the thesis's
    ``binary_mask[binary_mask != 1] = 0``).

    Orientation: the thesis takes ``nib.load(f).get_fdata()[:, :, 2]``, then
    ``np.rot90`` and ``np.flipud``, which together transpose the (x, y)
    array to (y, x): rows are depth, the apex at the top. mmecho's loaders
    give every CAMUS frame in that orientation already (a test reads the
    files with nibabel and applies the thesis's two calls).

    Args:
        views (Sequence[str]): ``('2CH', )`` in the thesis.
        frames (Sequence[int]): Frame indices of each half sequence
            (``(2, )`` in the thesis).
        **kwargs: :class:`CAMUSDataset` arguments (``data_root``, ``split``:
            the thesis's seeded 400/50/50 split is written by
            :func:`~mmecho.datasets.write_thesis_split`).
    """

    METAINFO = dict(classes=THESIS_LV_CLASSES, palette=THESIS_LV_PALETTE)

    def __init__(self,
                 views: Sequence[str] = ('2CH', ),
                 frames: Sequence[int] = (2, ),
                 **kwargs) -> None:
        kwargs.setdefault('instants', 'all')
        super().__init__(views=views, frames=frames, **kwargs)
