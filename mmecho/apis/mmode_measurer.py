# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM end to end: segment an M-mode capture, calibrate, measure."""
from typing import Dict, Optional, Tuple

import numpy as np

from mmecho.measurement import (MModeMeasurement, find_mmode_strip,
                                measure_mmode, read_depth_scale,
                                read_sidecar_cm_per_px)


class MModeMeasurer:
    """Measure M-mode images with an instance model (or given masks).

    Args:
        config (str, optional): instance model config; None for masks-only
            use (:meth:`measure_masks`).
        checkpoint (str, optional): its weights.
        device (str): ``'cpu'`` or ``'cuda:0'``.
        score_thr (float): detections below are ignored; per class the
            highest-scoring detection is the structure.
        cm_per_px (float, optional): fixed calibration (wins over the
            others); else a sidecar ``<image>.json`` with ``cm_per_px``,
            else the depth-scale ticks, else pixels only.
        read_scale (bool): try the depth-scale ticks. Defaults to True.
        allow_partial_checkpoint (bool): accept weights that do not fit the
            model (see :func:`mmecho.engine.load_model_weights`).

    Example:
        >>> m = MModeMeasurer('configs/meis/rtm_assigner.py', 'best.pth')
        >>> r = m('capture.jpg')
        >>> r.status, r.mean_cm('LVIDd'), r.derived()['EF']
    """

    def __init__(self,
                 config=None,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 score_thr: float = 0.3,
                 cm_per_px: Optional[float] = None,
                 read_scale: bool = True,
                 allow_partial_checkpoint: bool = False) -> None:
        self.model = None
        if config is not None:
            from .instance_inference import init_instance_model
            self.model = init_instance_model(
                config,
                checkpoint,
                device,
                allow_partial=allow_partial_checkpoint)
        self.score_thr = score_thr
        self.cm_per_px = cm_per_px
        self.read_scale = read_scale

    def calibrate(
            self,
            image: Optional[np.ndarray],
            image_path: Optional[str] = None) -> Tuple[Optional[float], str]:
        """(cm per pixel or None, where it came from)."""
        if self.cm_per_px is not None:
            return self.cm_per_px, 'given'
        if image_path is not None:
            value = read_sidecar_cm_per_px(image_path)
            if value is not None:
                return value, 'sidecar json'
        if self.read_scale and image is not None:
            try:
                value = read_depth_scale(image, find_mmode_strip(image))
            except ValueError:
                value = None
            if value is not None:
                return value, 'depth scale'
        return None, 'none'

    def predict_masks(self, image) -> Dict[str, np.ndarray]:
        """class name -> (H, W) bool mask of its best detection."""
        if self.model is None:
            raise RuntimeError('MModeMeasurer was built without a model')
        from .instance_inference import inference_instance_model
        inst = inference_instance_model(self.model, image).pred_instances
        classes = self.model.dataset_meta['classes']
        masks = {}
        order = inst.scores.argsort(descending=True).tolist()
        for i in order:
            if float(inst.scores[i]) < self.score_thr:
                break
            name = classes[int(inst.labels[i])]
            if name not in masks:
                masks[name] = inst.masks[i].cpu().numpy().astype(bool)
        return masks

    def measure_masks(self,
                      masks: Dict,
                      image: Optional[np.ndarray] = None,
                      image_path: Optional[str] = None) -> MModeMeasurement:
        """Measure given masks (or per-column edges), calibrating from the
        image / its sidecar when available."""
        cm_per_px, source = self.calibrate(image, image_path)
        return measure_mmode(masks, cm_per_px, source)

    def __call__(self,
                 image,
                 image_path: Optional[str] = None) -> MModeMeasurement:
        """Segment and measure one image (BGR array or a path)."""
        if isinstance(image, str):
            import mmcv
            image_path = image
            image = mmcv.imread(image)
        masks = self.predict_masks(image)
        result = self.measure_masks(masks, image, image_path)
        result.masks = masks
        return result
