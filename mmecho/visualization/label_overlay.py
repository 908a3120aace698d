# Copyright (c) mmecho contributors. All rights reserved.
"""Small drawing helpers for label maps on grey images (RGB, uint8).

Used by ``tools/analysis_tools/browse_dataset.py`` for the samples that the
OpenMMLab visualisers do not handle (2D+time sequences, registration frame
pairs) and to bring any image into the visualisers' frame (RGB, at the
labels' resolution).
"""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

#: RGB colours by label value when a dataset has no palette (0 = background)
DEFAULT_PALETTE = [[0, 0, 0], [230, 60, 60], [60, 200, 90], [70, 110, 240],
                   [240, 200, 40], [200, 80, 220], [40, 210, 220],
                   [250, 130, 30]]
#: pixels between panels of :func:`side_by_side`
PANEL_GAP = 4


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Any numeric array -> uint8: floats in [0, 1] are scaled by 255, other
    values are clipped to [0, 255]."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    is_float = np.issubdtype(image.dtype, np.floating)
    image = image.astype(np.float32)
    if is_float and image.size and float(image.max()) <= 1.0 \
            and float(image.min()) >= 0.0:
        image = image * 255.0
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def to_rgb(image: np.ndarray, bgr: bool = True) -> np.ndarray:
    """``(H, W)``, ``(H, W, 1)`` or ``(H, W, C)`` -> contiguous ``(H, W, 3)``
    uint8 RGB. Grey images are repeated; three channels are taken as BGR
    (OpenMMLab's loaders) unless ``bgr=False``; any other channel count
    keeps the first channel as grey."""
    image = to_uint8(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f'expected an (H, W[, C]) image, got {image.shape}')
    if image.shape[2] == 3:
        image = image[..., ::-1] if bgr else image
    else:
        image = np.repeat(image[..., :1], 3, axis=2)
    return np.ascontiguousarray(image)


def image_at_label_resolution(image: np.ndarray,
                              label_shape: Sequence[int],
                              metainfo: Optional[Dict] = None) -> np.ndarray:
    """Bring ``image`` ``(H, W, C)`` to the labels' ``(h, w)``.

    When the labels were loaded at the original size after the image was
    resized (and possibly padded bottom/right), i.e. ``label_shape`` equals
    ``metainfo['ori_shape']``, the resized content (the top-left
    ``ori_shape * scale_factor`` of the image) is cut out before it is
    resized back, so the padding does not shift the labels. Otherwise the
    whole image is resized.
    """
    h, w = int(label_shape[0]), int(label_shape[1])
    H, W = image.shape[:2]
    if (H, W) == (h, w):
        return image
    metainfo = metainfo or {}
    ori = metainfo.get('ori_shape')
    scale = metainfo.get('scale_factor')
    if ori is not None and scale is not None and \
            tuple(int(s) for s in ori[:2]) == (h, w):
        sx, sy = float(scale[0]), float(scale[1])  # (w_scale, h_scale)
        ch = max(1, min(H, int(round(h * sy))))
        cw = max(1, min(W, int(round(w * sx))))
        image = image[:ch, :cw]
    interp = cv2.INTER_AREA if image.shape[0] > h else cv2.INTER_LINEAR
    out = cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)
    if out.ndim == 2 and image.ndim == 3:
        out = out[..., None]
    return out


def overlay_labels(rgb: np.ndarray,
                   labels: np.ndarray,
                   palette: Optional[Sequence[Sequence[int]]] = None,
                   alpha: float = 0.5,
                   ignore_index: int = 255) -> np.ndarray:
    """Blend the colour of each label value (background 0 and
    ``ignore_index`` left as they are) into ``rgb`` ``(H, W, 3)``; labels
    ``(H, W)`` must have the image's shape."""
    labels = np.asarray(labels)
    if labels.shape != rgb.shape[:2]:
        raise ValueError(f'labels of shape {labels.shape} for an image of '
                         f'shape {rgb.shape[:2]}')
    palette = list(palette) if palette else DEFAULT_PALETTE
    out = rgb.astype(np.float32)
    for value in np.unique(labels):
        value = int(value)
        if value == 0 or value == ignore_index:
            continue
        colour = palette[value] if value < len(palette) else \
            DEFAULT_PALETTE[1 + (value - 1) % (len(DEFAULT_PALETTE) - 1)]
        region = labels == value
        out[region] = (1 - alpha) * out[region] + alpha * np.asarray(
            colour, np.float32)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def put_caption(rgb: np.ndarray, text: str) -> np.ndarray:
    """Write ``text`` (lines split at ``\\n``) in white with a black outline
    at the top left (grey only, so it never looks like a label colour)."""
    h, w = rgb.shape[:2]
    scale = float(np.clip(min(h, w) / 400.0, 0.3, 1.0))
    step = max(12, int(round(30 * scale)))
    out = np.ascontiguousarray(rgb)
    for k, line in enumerate(text.split('\n')):
        org = (2, step * (k + 1) - 2)
        cv2.putText(out, line, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    3, cv2.LINE_AA)
        cv2.putText(out, line, org, cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out


def side_by_side(panels: Sequence[np.ndarray],
                 gap: int = PANEL_GAP) -> np.ndarray:
    """Panels ``(h_i, w_i, 3)`` left to right, top-aligned, ``gap`` black
    pixels apart; the first panel starts at ``(0, 0)``."""
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = np.zeros((height, width, 3), np.uint8)
    x = 0
    for p in panels:
        out[:p.shape[0], x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


def sequence_frames_to_draw(num: int, max_frames: int = 4) -> np.ndarray:
    """Indices of up to ``max_frames`` frames spread evenly over ``num``,
    always the first and the last."""
    k = max(1, min(int(num), int(max_frames)))
    return np.unique(np.round(np.linspace(0, num - 1, k)).astype(int))


def panel(frame: np.ndarray,
          labels: Optional[np.ndarray],
          palette=None,
          caption: str = '',
          ignore_index: int = 255) -> Tuple[np.ndarray, bool]:
    """One grey frame ``(H, W)`` (or ``(H, W, C)``) as RGB with its labels
    (if any) and a caption; returns the panel and whether labels were
    drawn."""
    rgb = to_rgb(frame)
    drawn = labels is not None
    if drawn:
        rgb = overlay_labels(rgb, labels, palette, ignore_index=ignore_index)
    if caption:
        rgb = put_caption(rgb, caption)
    return rgb, drawn
