# Copyright (c) mmecho contributors. All rights reserved.
from .label_overlay import (DEFAULT_PALETTE, PANEL_GAP,
                            image_at_label_resolution, overlay_labels,
                            put_caption, side_by_side, to_rgb)
from .mmode_overlay import draw_mmode_measurement

__all__ = [
    'draw_mmode_measurement', 'DEFAULT_PALETTE', 'PANEL_GAP',
    'image_at_label_resolution', 'overlay_labels', 'put_caption',
    'side_by_side', 'to_rgb'
]
