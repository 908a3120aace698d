# Copyright (c) mmecho contributors. All rights reserved.
"""Run exported networks with onnxruntime (CPU).

* instance (M-mode) models: :class:`ONNXRuntimeDetector` (below);
* segmentation models: :class:`ONNXRuntimeSegmentor`, used by
  :func:`mmecho.apis.segmentation_inference.init_segmentor` with
  ``backend='onnxruntime'``;
* registration models: :func:`onnx_fields_fn`, the ``fields_fn`` of the
  pseudo-label generator (the counterpart of ``model_fields_fn``).

Instance models
---------------


The ONNX file of an instance model (:class:`~.onnx_export.DetectorAdapter`,
``tools/deployment/pytorch2onnx.py``) holds the network only: backbone, neck,
box head convolutions and the YOLACT protonet. It takes the tensor the
model's ``data_preprocessor`` produces (normalised, padded to a multiple of
32) and returns the raw head outputs. Everything after that stays in Python
and is mmdet's own code, run on the onnxruntime outputs:

* :class:`ONNXRuntimeInstanceNetwork` runs the file and regroups its outputs
  by name (``cls_score_0..L-1``, ``bbox_pred_*``, ``coeff_pred_*``,
  ``prototypes``) into the structure of
  :func:`mmecho.apis.instance_inference.forward_network`:
  ``([cls_score_l], [bbox_pred_l], [coeff_pred_l], prototypes)``.
* :class:`ONNXRuntimeDetector` stands in for the PyTorch detector wherever
  mmdet's ``inference_detector`` (and so
  :func:`~mmecho.apis.instance_inference.inference_instance_model` and
  :class:`~mmecho.apis.MModeMeasurer`) takes one: the config's test pipeline
  and ``data_preprocessor`` prepare the input, onnxruntime runs the network,
  then ``bbox_head.predict_by_feat`` (prior generation, box decoding, fast
  NMS) and ``mask_head.predict`` (prototypes x coefficients, sigmoid, box
  crop, upsampling to the original image, threshold) give the instances.

No learned tensor is used after the network: YOLACT's mask assembly is
``sigmoid(prototypes @ coefficients^T)`` on the network's outputs, the
anchors come from the prior generator's settings, the box coder and NMS
have no parameters, and the semantic-segmentation branch of the protonet
only runs in training. So the heads are built from the config (for their
settings and methods), their convolutions are never called, and the
backbone, neck and protonet are removed from the Python model: the weights
come from the ONNX file only (``tests/test_deployment/
test_onnxruntime_measurement.py`` fills every remaining parameter with NaN
and still gets PyTorch's masks).
"""
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from .onnx_export import _HEAD_OUTPUT_NAMES, onnx_metadata

#: the per-level outputs of every head the exporter names
_PER_LEVEL = {
    name
    for per_level, _ in _HEAD_OUTPUT_NAMES.values()
    for name in per_level
}


def _session(path: str, num_threads: Optional[int] = None):
    import onnxruntime as ort
    options = ort.SessionOptions()
    # as many threads as torch may use (OMP_NUM_THREADS), not every core
    options.intra_op_num_threads = int(num_threads or torch.get_num_threads())
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def _output_layout(names: Sequence[str]) -> list:
    """The nesting of the outputs: a list whose items are an output index
    (a single tensor) or a list of indices (one per FPN level, in order).

    Raises:
        ValueError: the names are not those of the exporter's
            ``DetectorAdapter`` (e.g. generic ``output_0...``), or a
            per-level output misses a level.
    """
    layout, groups = [], {}
    for i, name in enumerate(names):
        m = re.fullmatch(r'(.+)_(\d+)', name)
        if m and m.group(1) in _PER_LEVEL:
            base, level = m.group(1), int(m.group(2))
            if base not in groups:
                groups[base] = []
                layout.append(groups[base])
            if level != len(groups[base]):
                raise ValueError(f'output {name}: expected level '
                                 f'{len(groups[base])} of {base}')
            groups[base].append(i)
        elif re.fullmatch(r'output(_\d+)?', name):
            raise ValueError(
                f'outputs named {list(names)}: not the head outputs of an '
                'mmecho instance export (cls_score_0, ..., prototypes)')
        else:
            layout.append(i)
    levels = {len(g) for g in groups.values()}
    if len(levels) > 1:
        raise ValueError('per-level outputs with different numbers of '
                         f'levels: {list(names)}')
    return layout


class ONNXRuntimeNetwork:
    """An exported network with one input, run by onnxruntime (CPU).

    Args:
        path (str): ``.onnx`` file written by
            :func:`~mmecho.deployment.export_onnx` (or its int8 version,
            :func:`~mmecho.deployment.quantization.quantize_onnx`).
        num_threads (int, optional): onnxruntime's ``intra_op_num_threads``
            (default: ``torch.get_num_threads()``).
        kind (str, optional): The kind of network expected (``'instance'``,
            ``'segmentation'``, ``'registration'``): a file whose metadata
            names another kind is refused.
    """

    kind = None

    def __init__(self,
                 path: str,
                 num_threads: Optional[int] = None,
                 kind: Optional[str] = None) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no such ONNX file')
        meta = onnx_metadata(path)
        expected = kind or self.kind
        found = meta.get('mmecho_kind')
        if expected and found is not None and found != expected:
            article = 'an' if expected[0] in 'aeiou' else 'a'
            raise ValueError(f'{path} holds a {found} network, not '
                             f'{article} {expected} one')
        self.path = path
        self.metadata = meta
        self.session = _session(path, num_threads)
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f'{path}: expected one input, got '
                             f'{[i.name for i in inputs]}')
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)  # ints or axis names
        self.output_names = [o.name for o in self.session.get_outputs()]

    @property
    def fixed_batch(self) -> Optional[int]:
        """The batch size the file requires, ``None`` if it is dynamic."""
        b = self.input_shape[0] if self.input_shape else None
        return b if isinstance(b, int) and b > 0 else None

    def check_input(self, shape: Sequence[int]) -> None:
        """Raise a ``ValueError`` naming both shapes when the file's fixed
        axes do not take an input of ``shape``."""
        fixed = self.input_shape
        if len(fixed) != len(shape) or any(
                isinstance(f, int) and f > 0 and f != s
                for f, s in zip(fixed, shape)):
            raise ValueError(
                f'{self.path} takes inputs of shape {fixed}, the pipeline '
                f'gives {list(shape)}: export it with dynamic axes or at '
                'the input size of the config\'s test pipeline')

    def run(self, inputs: torch.Tensor) -> List[np.ndarray]:
        """The flat list of outputs, in the file's order."""
        self.check_input(tuple(inputs.shape))
        feed = {
            self.input_name:
            np.ascontiguousarray(inputs.detach().cpu().numpy().astype(
                np.float32, copy=False))
        }
        return self.session.run(None, feed)


class ONNXRuntimeInstanceNetwork(ONNXRuntimeNetwork):
    """The network of an instance model, run by onnxruntime (CPU).

    Args:
        path (str): ``.onnx`` file written by
            :func:`~mmecho.deployment.export_onnx` for an instance model.
        num_threads (int, optional): onnxruntime's ``intra_op_num_threads``
            (default: ``torch.get_num_threads()``).

    Call it with the ``(N, 3, H, W)`` float tensor the detector's
    ``data_preprocessor`` returns; it returns what
    :func:`~mmecho.apis.instance_inference.forward_network` returns for
    the same input: for YOLACT ``([cls_score_l], [bbox_pred_l],
    [coeff_pred_l], prototypes)`` as float32 tensors on the input's device
    (onnxruntime itself runs on the CPU).
    """

    kind = 'instance'

    def __init__(self, path: str, num_threads: Optional[int] = None) -> None:
        super().__init__(path, num_threads)
        self.layout = _output_layout(self.output_names)

    @property
    def num_levels(self) -> int:
        """FPN levels of the per-level outputs (0 if there are none)."""
        return next((len(g) for g in self.layout if isinstance(g, list)), 0)

    def __call__(self, inputs: torch.Tensor) -> tuple:
        flat = [
            torch.from_numpy(a).to(inputs.device) for a in self.run(inputs)
        ]
        out = []
        for item in self.layout:  # per-level lists, then single tensors
            if isinstance(item, list):
                out.append([flat[i] for i in item])
            else:
                out.append(flat[item])
        return tuple(out)


class ONNXRuntimeDetector(nn.Module):
    """An mmdet detector whose network is an ONNX file run by onnxruntime.

    Works where mmdet's ``inference_detector`` takes a detector (it has
    ``cfg``, ``dataset_meta``, ``data_preprocessor`` and ``test_step``).

    Args:
        detector (nn.Module): The detector built from the config (weights do
            not matter). Its backbone, neck and YOLACT protonet are removed
            (the ONNX file replaces them); its data preprocessor and head
            post-processing are used.
        network (ONNXRuntimeInstanceNetwork): The exported network.

    Supported: YOLACT-style detectors (a box head and a protonet mask
    head, e.g. maYOLACT) and single-stage detectors whose box head
    predicts the instances itself (RTMDet-Ins).
    """

    def __init__(self, detector: nn.Module,
                 network: ONNXRuntimeInstanceNetwork) -> None:
        super().__init__()
        from mmdet.models.detectors.single_stage import SingleStageDetector
        from mmdet.models.detectors.single_stage_instance_seg import \
            SingleStageInstanceSegmentor
        mask_head = getattr(detector, 'mask_head', None)
        if isinstance(detector, SingleStageInstanceSegmentor):
            if detector.bbox_head is None or mask_head is None or \
                    getattr(mask_head, 'protonet', None) is None:
                raise TypeError(
                    f'{type(detector).__name__}: only YOLACT-style instance '
                    'segmentors (box head + protonet) run with onnxruntime')
            # the prototypes come from the file: mask_head.predict applies
            # mmdet's own assembly to them
            mask_head.protonet = nn.Identity()
        elif not isinstance(detector, SingleStageDetector):
            raise TypeError(f'{type(detector).__name__}: not a single-stage '
                            'detector')
        generator = getattr(detector.bbox_head, 'prior_generator', None)
        if generator is not None and network.num_levels and \
                network.num_levels != generator.num_levels:
            raise ValueError(
                f'{network.path} has {network.num_levels} FPN levels, the '
                f'config\'s head {generator.num_levels}: another model')
        # the network's weights live in the ONNX file
        detector.backbone = None
        if getattr(detector, 'neck', None) is not None:
            detector.neck = None
        self.detector = detector.eval()
        self.network = network
        self.cfg = getattr(detector, 'cfg', None)
        self.dataset_meta = getattr(detector, 'dataset_meta', None)

    @property
    def data_preprocessor(self) -> nn.Module:
        return self.detector.data_preprocessor

    def forward_network(self, inputs: torch.Tensor) -> tuple:
        """The raw head outputs, as
        :func:`~mmecho.apis.instance_inference.forward_network`."""
        return self.network(inputs)

    @torch.no_grad()
    def predict(self,
                batch_inputs: torch.Tensor,
                batch_data_samples: list,
                rescale: bool = True) -> list:
        """``detector.predict`` with the network run by onnxruntime: the
        same head post-processing on the same (up to float rounding)
        tensors."""
        det = self.detector
        outs = self.network(batch_inputs)
        metas = [s.metainfo for s in batch_data_samples]
        mask_head = getattr(det, 'mask_head', None)
        if mask_head is not None:  # YOLACT: SingleStageInstanceSegmentor
            *head_outs, prototypes = outs
            # boxes stay in the network's frame; the mask head rescales
            # boxes and masks together (as mmdet's predict)
            results = det.bbox_head.predict_by_feat(
                *head_outs, batch_img_metas=metas, rescale=False)
            results = mask_head.predict((prototypes, ),
                                        batch_data_samples,
                                        rescale=rescale,
                                        results_list=results)
        else:
            results = det.bbox_head.predict_by_feat(
                *outs, batch_img_metas=metas, rescale=rescale)
        return det.add_pred_to_datasample(batch_data_samples, results)

    def test_step(self, data: dict) -> list:
        data = self.data_preprocessor(data, False)
        return self.predict(data['inputs'], data['data_samples'])

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        if mode != 'predict':
            raise ValueError(f'{type(self).__name__} only predicts (mode '
                             f'{mode!r})')
        return self.predict(inputs, data_samples)


def init_onnxruntime_instance_model(
        config,
        onnx_model: str,
        device: str = 'cpu',
        cfg_options: Optional[dict] = None,
        num_threads: Optional[int] = None) -> ONNXRuntimeDetector:
    """:func:`~mmecho.apis.instance_inference.init_instance_model` with the
    network of an ONNX file.

    Args:
        config (str | Config): The model's config (test pipeline, data
            preprocessor, head settings such as ``test_cfg``).
        onnx_model (str): The exported network
            (``tools/deployment/pytorch2onnx.py``).
        device (str): Where the post-processing runs; onnxruntime runs on
            the CPU.
        num_threads (int, optional): onnxruntime's intra-op threads
            (default ``torch.get_num_threads()``).

    Class names are MEIS's (an ONNX file does not store them).
    """
    network = ONNXRuntimeInstanceNetwork(onnx_model, num_threads)
    from mmecho.apis.instance_inference import init_instance_model
    detector = init_instance_model(
        config, None, 'cpu', cfg_options=cfg_options)
    return ONNXRuntimeDetector(detector, network).to(device).eval()


# --- segmentation -----------------------------------------------------------


class ONNXRuntimeSegmentor(nn.Module):
    """A 2D segmentor whose network is an ONNX file run by onnxruntime.

    The file (:class:`~.onnx_export.SegmentorAdapter`) maps the normalised,
    padded image the config's ``data_preprocessor`` produces to the logits
    of ``model(x, mode='tensor')``. Everything else is the segmentor's own
    Python code, from the built config: the data preprocessor before, and
    after it :func:`mmecho.apis.segmentation_inference.predict_from_logits`
    (the decode head's resize to the input, mmseg's ``postprocess_result``:
    crop of the padding, resize to the image, argmax or sigmoid threshold,
    and the CAMUS post-processing of ``test_cfg``). None of those uses a
    learned tensor: the backbone, neck and auxiliary heads are removed, the
    decode head is kept for its settings (``align_corners``, ``threshold``)
    and never called.

    Args:
        segmentor (nn.Module): The segmentor built from the config (its
            weights do not matter).
        network (ONNXRuntimeNetwork): The exported network.

    Works where the segmentation inference API takes a model (``cfg``,
    ``data_preprocessor``, ``forward(inputs, mode='tensor')``,
    ``test_step``); 2D+time ``SequenceSegmentor`` files are not supported.
    """

    def __init__(self, segmentor: nn.Module,
                 network: ONNXRuntimeNetwork) -> None:
        super().__init__()
        from .onnx_export import _is_sequence, model_kind
        if model_kind(segmentor) != 'segmentation' or _is_sequence(segmentor):
            raise TypeError(f'{type(segmentor).__name__}: not a 2D segmentor')
        for name in ('backbone', 'neck', 'auxiliary_head'):
            if getattr(segmentor, name, None) is not None:
                setattr(segmentor, name, None)
        self.segmentor = segmentor.eval()
        self.network = network
        self.cfg = getattr(segmentor, 'cfg', None)
        self.dataset_meta = getattr(segmentor, 'dataset_meta', None)

    @property
    def data_preprocessor(self) -> nn.Module:
        return self.segmentor.data_preprocessor

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The network's logits (its first output) for the preprocessed
        ``inputs``, as a float32 tensor on the inputs' device."""
        out = self.network.run(inputs)[0]
        return torch.from_numpy(out).to(inputs.device)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples=None) -> list:
        from mmecho.apis.segmentation_inference import predict_from_logits
        return predict_from_logits(self.segmentor, self.logits(inputs), inputs,
                                   data_samples)

    def test_step(self, data: dict) -> list:
        data = self.data_preprocessor(data, False)
        return self.predict(data['inputs'], data['data_samples'])

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.logits(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'{type(self).__name__} runs mode tensor or predict,'
                         f' not {mode!r}')


# --- registration -----------------------------------------------------------


def onnx_fields_fn(onnx_path: str,
                   num_threads: Optional[int] = None) -> Callable:
    """The ``fields_fn`` of an exported registration network: the
    onnxruntime counterpart of ``model_fields_fn(model)`` (the pseudo-label
    generator's, ``model.displacement`` without gradients).

    Args:
        onnx_path (str): ``.onnx`` file of a ``PairwiseRegistrator``
            (``tools/deployment/pytorch2onnx.py``), fp32 or int8.
        num_threads (int, optional): onnxruntime's intra-op threads
            (default: ``torch.get_num_threads()``).

    Returns:
        callable: ``fn(fixed, moving) -> displacement``: ``(N, C, h, w)``
        float images in [0, 1] (C = 1 for the CAMUS/M&Ms models) to the
        ``(N, 2, h, w)`` float32 displacement in pixels, ``(dy, dx)``, on
        ``fixed``'s device, as ``model.displacement`` returns it; a NaN or
        infinite field raises :class:`~mmecho.registration.NonFiniteError`
        as there. ``fn.network`` is the :class:`ONNXRuntimeNetwork`.

    The registration networks export with a dynamic batch but fixed
    ``h x w`` (their sizes are computed in Python): give the pseudo-label
    generator the size the file was exported at (its ``size`` argument,
    the config's training size), else ``fn`` raises a ``ValueError`` naming
    both sizes. A file exported with a fixed batch is run on chunks of that
    batch (the last one padded by repeating its last pair).
    """
    network = ONNXRuntimeNetwork(onnx_path, num_threads, kind='registration')

    @torch.no_grad()
    def fn(fixed: torch.Tensor, moving: torch.Tensor) -> torch.Tensor:
        from mmecho.registration import check_finite
        if fixed.shape != moving.shape or fixed.dim() != 4:
            raise ValueError('fixed and moving must be (N, C, h, w) tensors '
                             f'of one shape, got {tuple(fixed.shape)} and '
                             f'{tuple(moving.shape)}')
        pairs = torch.cat([fixed, moving], dim=1).float()
        fixed_hw = network.input_shape[2:]
        if len(fixed_hw) == 2 and all(isinstance(d, int) for d in fixed_hw) \
                and tuple(fixed_hw) != tuple(pairs.shape[2:]):
            raise ValueError(
                f'{onnx_path} was exported for {fixed_hw[0]} x {fixed_hw[1]} '
                f'frames, got {pairs.shape[2]} x {pairs.shape[3]}: run the '
                'pseudo-label generation at that size (size=...) or export '
                'at this one')
        step = network.fixed_batch or pairs.shape[0] or 1
        out = []
        for i in range(0, pairs.shape[0], step):
            chunk = pairs[i:i + step]
            n = chunk.shape[0]
            if n < step:  # a fixed batch: repeat the last pair
                chunk = torch.cat(
                    [chunk, chunk[-1:].expand(step - n, -1, -1, -1)])
            out.append(torch.from_numpy(network.run(chunk)[0][:n]))
        disp = torch.cat(out).to(fixed.device)
        check_finite(disp, f'displacement predicted by {onnx_path}')
        return disp

    fn.network = network
    return fn


__all__ = [
    'ONNXRuntimeNetwork', 'ONNXRuntimeInstanceNetwork', 'ONNXRuntimeDetector',
    'init_onnxruntime_instance_model', 'ONNXRuntimeSegmentor', 'onnx_fields_fn'
]
