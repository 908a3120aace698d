# Copyright (c) mmecho contributors. All rights reserved.
"""AMEM end to end: segment an M-mode capture, calibrate, measure."""
from typing import Dict, Optional, Tuple

import numpy as np

from mmecho.measurement import (DepthScale, MModeMeasurement, measure_mmode,
                                read_depth_scale_marks,
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
            others); else a DICOM M-mode region's, else a sidecar
            ``<image>.json`` with ``cm_per_px``, else the depth-scale ticks,
            else pixels only.
        read_scale (bool): try the depth-scale ticks. Defaults to True.
        allow_partial_checkpoint (bool): accept weights that do not fit the
            model (see :func:`mmecho.engine.load_model_weights`).
        backend (str): ``'pytorch'`` (default) runs the network built from
            ``config`` with ``checkpoint``'s weights; ``'onnxruntime'`` runs
            the network of ``onnx_model`` (an export of the same config,
            ``tools/deployment/pytorch2onnx.py``) with onnxruntime on the
            CPU. Both share the config's test pipeline and mmdet's head
            post-processing (:mod:`mmecho.deployment.onnxruntime_backend`),
            so the masks and measurements are the same.
        onnx_model (str, optional): the ``.onnx`` file of the
            ``'onnxruntime'`` backend (its weights; give no
            ``checkpoint``).

    Example:
        >>> m = MModeMeasurer('configs/meis/rtm_assigner.py', 'best.pth')
        >>> r = m('capture.jpg')
        >>> r.status, r.mean_cm('LVIDd'), r.derived()['EF']
        >>> m = MModeMeasurer('configs/meis/rtm_assigner.py',
        ...                   backend='onnxruntime', onnx_model='rtm.onnx')
    """

    BACKENDS = ('pytorch', 'onnxruntime')

    def __init__(self,
                 config=None,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 score_thr: float = 0.3,
                 cm_per_px: Optional[float] = None,
                 read_scale: bool = True,
                 allow_partial_checkpoint: bool = False,
                 backend: str = 'pytorch',
                 onnx_model: Optional[str] = None) -> None:
        if backend not in self.BACKENDS:
            raise ValueError(f'backend {backend!r}: expected one of '
                             f'{self.BACKENDS}')
        if backend == 'onnxruntime':
            if onnx_model is None:
                raise ValueError("backend='onnxruntime' needs onnx_model")
            if checkpoint is not None:
                raise ValueError(
                    "backend='onnxruntime' takes the weights from "
                    'onnx_model: give no checkpoint')
            if config is None:
                raise ValueError("backend='onnxruntime' needs the model's "
                                 'config (pipeline and post-processing)')
        elif onnx_model is not None:
            raise ValueError("onnx_model needs backend='onnxruntime'")
        self.backend = backend
        self.model = None
        if config is not None and backend == 'onnxruntime':
            from mmecho.deployment.onnxruntime_backend import \
                init_onnxruntime_instance_model
            self.model = init_onnxruntime_instance_model(
                config, onnx_model, device)
        elif config is not None:
            from .instance_inference import init_instance_model
            self.model = init_instance_model(
                config,
                checkpoint,
                device,
                allow_partial=allow_partial_checkpoint)
        self.score_thr = score_thr
        self.cm_per_px = cm_per_px
        self.read_scale = read_scale
        self.last_scale: Optional[DepthScale] = None

    @staticmethod
    def calibrate_region(region) -> Optional[float]:
        """cm per pixel of a DICOM M-mode region
        (:class:`mmecho.datasets.io.UltrasoundRegion`) when its depth axis
        is in cm; None without a region or without depth units."""
        return None if region is None else region.cm_per_px

    def calibrate(self,
                  image: Optional[np.ndarray],
                  image_path: Optional[str] = None,
                  region=None) -> Tuple[Optional[float], str]:
        """(cm per pixel or None, where it came from).

        Order: the ``cm_per_px`` given to the measurer, a DICOM M-mode
        ``region`` ('dicom region'), the sidecar json, the depth scale.
        """
        if self.cm_per_px is not None:
            return self.cm_per_px, 'given'
        value = self.calibrate_region(region)
        if value is not None:
            return value, 'dicom region'
        if image_path is not None:
            value = read_sidecar_cm_per_px(image_path)
            if value is not None:
                return value, 'sidecar json'
        if self.read_scale and image is not None:
            scale = self.read_depth_scale(image)
            if scale.ok:
                return scale.cm_per_px, 'depth scale'
            return None, f'none: depth scale refused ({scale.status})'
        return None, 'none'

    def read_depth_scale(self, image: np.ndarray) -> DepthScale:
        """Read the depth scale of ``image`` and keep what was found (panel,
        tick rows) in ``self.last_scale`` for the overlay."""
        self.last_scale = read_depth_scale_marks(image)
        return self.last_scale

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
                      image_path: Optional[str] = None,
                      region=None,
                      dicom_heart_rate_bpm: Optional[float] = None,
                      dicom_heart_rate_problem: Optional[str] = None
                      ) -> MModeMeasurement:
        """Measure given masks (or per-column edges), calibrating from the
        image / its sidecar when available.

        Args:
            masks (dict): class name -> (H, W) mask or ``(top, bottom)``
                column edges.
            image (np.ndarray, optional): (H, W, 3) BGR capture (depth
                scale).
            image_path (str, optional): its file (sidecar json).
            region (UltrasoundRegion, optional): the DICOM M-mode region of
                the capture: its cm per pixel (depth) wins over the sidecar
                and the depth scale, its seconds per pixel (time) gives the
                cycle durations and the heart rate.
            dicom_heart_rate_bpm (float, optional): the file's own Heart
                Rate (0018,1088), reported beside the measured one and
                checked against it (``result.heart_rate_check()``).
            dicom_heart_rate_problem (str, optional): why the file's Heart
                Rate cannot be used (malformed), reported instead.
        """
        self.last_scale = None
        cm_per_px, source = self.calibrate(image, image_path, region)
        s_per_px = None if region is None else region.s_per_px
        result = measure_mmode(masks, cm_per_px, source, s_per_px)
        result.dicom_heart_rate_bpm = dicom_heart_rate_bpm
        result.dicom_heart_rate_problem = dicom_heart_rate_problem
        if cm_per_px is None and result.status == 'ok' and \
                source.startswith('none:'):
            # geometry fine, scale not certain: say so, never guess cm
            result.status = 'pixels only: ' + source[len('none: '):]
        # what the calibration used, for the overlay: the panel and the
        # 1 cm tick rows, or the DICOM region
        if region is not None and source == 'dicom region':
            result.calibration_marks = dict(panel=region.strip)
        elif self.last_scale is not None:
            sc = self.last_scale
            result.calibration_marks = dict(
                panel=sc.panel,
                tick_rows=list(map(float, sc.tick_rows)),
                tick_columns=sc.columns)
        return result

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
