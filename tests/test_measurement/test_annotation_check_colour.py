"""The annotation content check on screenshots with a model's masks burned
in, drawn with numpy (``philips_capture``), not with mmecho's phantom.

Under a translucent mask the brightness is the mask's as much as the
tissue's: a yellow mask of opacity 0.6 over a black cavity gives it a
luminance of ~135, brighter than most of the tissue beside it, so a
luminance comparison calls the true annotation a mismatch (as it did on a
real Philips AV capture: 35 % of the columns). Only grey pixels count.
"""
import cv2
import numpy as np

from mmecho.measurement.annotation_check import (annotation_mismatch,
                                                 tissue_brighter_share)

from .test_depth_scale_philips import PANEL, philips_capture

PX_PER_CM = 49.6


def lv_bands(drawn, shift_px=0.0):
    """IVS between the RV and LV cavities, LVPW the 1 cm under the LV
    cavity, as (top, bottom) rows per panel column, shifted by
    ``shift_px``."""
    (_, rv_bot), (lv_top, lv_bot) = drawn['pools']
    return {
        'IVS': (rv_bot + shift_px, lv_top + shift_px),
        'LVPW': (lv_bot + shift_px, lv_bot + PX_PER_CM + shift_px)
    }


def _panel_only(image):
    top, bottom, left, right = PANEL
    return image[:, left:right]


def test_true_annotation_of_a_plain_capture_scores_high():
    image, drawn = philips_capture(PX_PER_CM, jpeg_quality=80)
    share = tissue_brighter_share(_panel_only(image), lv_bands(drawn))
    assert share > 0.9
    assert annotation_mismatch(_panel_only(image), lv_bands(drawn)) is None


def test_yellow_masks_over_the_cavities_do_not_make_a_mismatch():
    image, drawn = philips_capture(
        PX_PER_CM, overlays=('yellow_masks', ), jpeg_quality=80)
    panel = _panel_only(image)
    bands = lv_bands(drawn)
    # what a luminance comparison sees: the masked blood is the brighter
    # side (the failure on the real capture)
    gray = cv2.cvtColor(panel, cv2.COLOR_BGR2GRAY)
    lv_top = drawn['pools'][1][0]
    blood = gray[(lv_top + 4).astype(int), np.arange(panel.shape[1])]
    tissue = gray[(lv_top - 4).astype(int), np.arange(panel.shape[1])]
    assert np.mean(tissue > blood) < 0.7
    # the check compares grey pixels only: every cavity is masked, so it
    # cannot say, and does not call the annotation a mismatch
    assert tissue_brighter_share(panel, bands) is None
    assert annotation_mismatch(panel, bands) is None


def test_partial_masks_still_catch_a_wrong_annotation():
    image, drawn = philips_capture(
        PX_PER_CM, overlays=('masks', 'calipers'), jpeg_quality=80)
    panel = _panel_only(image)
    assert tissue_brighter_share(panel, lv_bands(drawn)) > 0.9
    # the same annotation 1.2 cm deeper: its walls are not the image's
    wrong = lv_bands(drawn, shift_px=1.2 * PX_PER_CM)
    assert annotation_mismatch(panel, wrong) is not None
