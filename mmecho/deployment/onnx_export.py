# Copyright (c) mmecho contributors. All rights reserved.
"""ONNX export of mmecho's networks, checked against onnxruntime.

Only the network is exported: the input is the tensor the model's
``data_preprocessor`` would hand it (normalised, padded), and the outputs
are raw tensors; normalisation and post-processing (argmax, CAMUS
post-processing, box decoding, NMS, mask assembly, warping) stay in Python.
One small adapter per kind of model gives the exporter a module with one
tensor in (named ``inputs``) and tensors out:

* segmentation (:class:`SegmentorAdapter`): ``(B, C, H, W)`` normalised
  image (``(B, C, T, H, W)`` for the 2D+time ``SequenceSegmentor``) ->
  ``logits``, what ``model(x, mode='tensor')`` returns;
* instance (:class:`DetectorAdapter`): ``(B, 3, H, W)`` normalised, padded
  image (H, W multiples of 32) -> the raw head outputs, one tensor per head
  output and FPN level (``cls_score_0``...), plus the YOLACT
  ``prototypes``;
* registration (:class:`RegistrationAdapter`): ``(B, 2C, H, W)``, channels
  ``[:C]`` the fixed frame and ``[C:]`` the moving one (the batch layout of
  ``PairwiseRegistrator``) -> ``displacement`` ``(B, 2, H, W)`` in pixels,
  ``(dy, dx)``.

The exporter is PyTorch's TorchScript-based one (``torch.onnx.export(...,
dynamo=False)``): on torch 2.13 it exports every mmecho network in well under
ten seconds, needs no ``onnxscript``, and reproduces PyTorch to ~1e-6. The
``torch.export``-based default (``dynamo=True``) needs ``onnxscript``, takes
5-15x longer on these models and fails on three of them (UNet3D's
decomposition, the registration networks' finiteness check and their shape
guards).

A traced graph replays the Python control flow of the example it was traced
with: a size computed with ``int()`` or ``math.ceil`` or a branch on a shape
is frozen into it. While tracing, three third-party layers that do this run
an equivalent that keeps sizes symbolic (:func:`_exportable_ops`: adaptive
average pooling, mmcv's ``Conv2dAdaptivePadding`` of the EfficientNet
encoders, mmseg's ``Upsample``). :func:`export_onnx` then runs every dynamic
export once more at a second input shape (another batch size and spatial
size, :func:`probe_example`) in onnxruntime and PyTorch; when that fails or
disagrees it exports again with fewer dynamic axes (batch only, then none),
warns with the reason and records it. The axes that are dynamic in the file
are written into its metadata (``mmecho_dynamic_axes``, and why others are
not in ``mmecho_static_reason``; :func:`onnx_metadata`). Known cases: the
B-spline registration network (the basis of ``BSplineTransformer``) and
VoxelMorph with integration (the half-resolution velocity of
``resize_flow``) compute sizes with ``int()`` and export with a dynamic
batch only; UPANet (the MEIS instance models) branches on odd feature
sizes, so trace it at an odd multiple of 32 (544 = 17 x 32, 160 = 5 x 32):
the odd branch is exact on even sizes too, the even one is not.
"""
import contextlib
import types
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmecho.utils import atomic_write

INPUT_NAME = 'inputs'

KINDS = ('segmentation', 'instance', 'registration')

#: head class -> (names of the per-level outputs, names of single outputs)
_HEAD_OUTPUT_NAMES = {
    'YOLACTHead': (('cls_score', 'bbox_pred', 'coeff_pred'), ()),
    'RTMDetInsHead':
    (('cls_score', 'bbox_pred', 'kernel_pred'), ('mask_feat', )),
}


def model_kind(model: nn.Module) -> str:
    """``'segmentation'`` (mmseg segmentors, incl. mmecho's
    ``EchoEncoderDecoder`` and cascades, and ``SequenceSegmentor``),
    ``'instance'`` (mmdet detectors) or ``'registration'``
    (``PairwiseRegistrator`` and subclasses).

    Raises:
        TypeError: another kind of module.
    """
    from mmdet.models.detectors import BaseDetector
    from mmseg.models.segmentors import BaseSegmentor

    from mmecho.models.registrators import PairwiseRegistrator
    from mmecho.models.segmentors import SequenceSegmentor
    if isinstance(model, PairwiseRegistrator):
        return 'registration'
    if isinstance(model, (BaseSegmentor, SequenceSegmentor)):
        return 'segmentation'
    if isinstance(model, BaseDetector):
        return 'instance'
    raise TypeError(f'cannot export a {type(model).__name__}: expected an '
                    'mmseg/mmecho segmentor, an mmdet detector or a '
                    'PairwiseRegistrator')


def _flatten(outputs) -> List[torch.Tensor]:
    """Tensors of nested tuples/lists, depth first."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    flat = []
    for item in outputs:
        flat += _flatten(item)
    return flat


class _Adapter(nn.Module):
    """Base of the export adapters: ``forward(inputs) -> tensor(s)``."""

    kind = ''

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def output_names(self, outputs: Sequence[torch.Tensor]) -> List[str]:
        """ONNX names of the flattened ``outputs`` of this adapter."""
        if len(outputs) == 1:
            return ['output']
        return [f'output_{i}' for i in range(len(outputs))]


class SegmentorAdapter(_Adapter):
    """Logits of a segmentor: ``model(inputs, mode='tensor')``.

    Shapes:
        ``(B, C, H, W)`` normalised image -> ``(B, K, h, w)`` logits at the
        decode head's resolution (K classes, or 1 for a sigmoid head; the
        whole-image resolution for the cascades); for a
        ``SequenceSegmentor`` ``(B, C, T, H, W)`` -> ``(B, K, T, H, W)``.
    """

    kind = 'segmentation'

    def forward(self, inputs: torch.Tensor):
        out = _flatten(self.model(inputs, mode='tensor'))
        return out[0] if len(out) == 1 else tuple(out)

    def output_names(self, outputs):
        if len(outputs) == 1:
            return ['logits']
        return [f'logits_{i}' for i in range(len(outputs))]


class DetectorAdapter(_Adapter):
    """Raw head outputs of an mmdet detector, no post-processing.

    ``model(x, mode='tensor')`` of mmdet's instance segmentors computes the
    training losses to select the mask head's inputs (it needs ground
    truth), so this runs the layers an inference pass runs instead
    (:func:`mmecho.apis.instance_inference.forward_network`: backbone, neck,
    ``bbox_head.forward`` and, for YOLACT, the protonet) and flattens the
    nested result.

    Shapes:
        ``(B, 3, H, W)`` normalised image, H and W multiples of 32 -> for
        YOLACT-style heads with L FPN levels (strides s_l), A anchors per
        location, K classes and P prototypes: ``cls_score_l (B, A*K, H/s_l,
        W/s_l)`` for every level, then ``bbox_pred_l (B, A*4, ...)``,
        ``coeff_pred_l (B, A*P, ...)`` and ``prototypes`` of the mask head
        (mmdet's YOLACTProtonet layout, stride 4).
    """

    kind = 'instance'

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        from mmecho.apis.instance_inference import forward_network
        return tuple(_flatten(forward_network(self.model, inputs)))

    def output_names(self, outputs):
        head = self.model.bbox_head
        spec = next(
            (_HEAD_OUTPUT_NAMES[c.__name__]
             for c in type(head).__mro__ if c.__name__ in _HEAD_OUTPUT_NAMES),
            None)
        generator = getattr(head, 'prior_generator', None)
        if spec is None or generator is None:
            return super().output_names(outputs)
        per_level, single = spec
        names = [
            f'{name}_{level}' for name in per_level
            for level in range(len(generator.strides))
        ] + list(single)
        if getattr(self.model, 'mask_head', None) is not None:
            names.append('prototypes')
        if len(names) != len(outputs):
            return super().output_names(outputs)
        return names


class RegistrationAdapter(_Adapter):
    """Displacement predicted by a registrator's network.

    Calls ``model.network(fixed, moving)`` directly: the registrator's
    ``forward(inputs, mode='tensor')`` returns the same field but first
    checks it is finite in Python (``check_finite``), which a graph cannot
    replay. ONNX returns NaN where PyTorch would raise.

    Shapes:
        ``(B, 2C, H, W)``: ``[:, :C]`` the fixed frame, ``[:, C:]`` the
        moving one, intensities as the registrator was trained on (``[0,
        1]``) -> ``(B, 2, H, W)`` displacement in pixels, ``(dy, dx)``.
    """

    kind = 'registration'

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        half = inputs.shape[1] // 2
        network = self.model.network
        disp = network(inputs[:, :half], inputs[:, half:])
        if hasattr(network, 'preint_flow'):
            network.preint_flow = None  # VoxelMorph keeps its last field
        return disp

    def output_names(self, outputs):
        return ['displacement']


_ADAPTERS = dict(
    segmentation=SegmentorAdapter,
    instance=DetectorAdapter,
    registration=RegistrationAdapter)


def make_adapter(model: nn.Module) -> _Adapter:
    """The export adapter of ``model`` (returned as is if it already is
    one), in eval mode (BatchNorm uses its running statistics)."""
    if isinstance(model, _Adapter):
        return model.eval()
    return _ADAPTERS[model_kind(model)](model).eval()


def _device(module: nn.Module) -> torch.device:
    """Where ``module``'s parameters are (the CPU if it has none)."""
    return next(module.parameters(), torch.empty(0)).device


def _run_torch(adapter: nn.Module,
               example: torch.Tensor) -> List[torch.Tensor]:
    with torch.no_grad():
        return [t.detach().cpu() for t in _flatten(adapter(example))]


def _ort_session(path: str):
    import onnxruntime as ort
    options = ort.SessionOptions()
    # as many threads as torch may use (OMP_NUM_THREADS), not every core
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.log_severity_level = 4  # errors are raised, not printed
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def _run_onnx(path: str, example: torch.Tensor) -> List[np.ndarray]:
    session = _ort_session(path)
    name = session.get_inputs()[0].name
    feed = {name: example.detach().cpu().numpy().astype(np.float32)}
    return session.run(None, feed)


def _max_abs_diff(got: Sequence[np.ndarray],
                  ref: Sequence[torch.Tensor]) -> float:
    if len(got) != len(ref):
        raise ValueError(f'onnxruntime returned {len(got)} outputs, PyTorch '
                         f'{len(ref)}')
    diffs = [0.0]
    for i, (a, b) in enumerate(zip(got, ref)):
        b = b.numpy()
        if a.shape != b.shape:
            raise ValueError(f'output {i}: onnxruntime shape {a.shape}, '
                             f'PyTorch {b.shape}')
        if a.size:
            diffs.append(np.abs(a.astype(np.float64) - b).max())
    return float(np.max(diffs))  # NaN when an output holds one


def verify_onnx(path: str, model_adapter: nn.Module,
                example: torch.Tensor) -> float:
    """Run the ONNX file with onnxruntime (CPUExecutionProvider) and the
    network with PyTorch on ``example``.

    Args:
        path (str): The ``.onnx`` file (from :func:`export_onnx`).
        model_adapter (nn.Module): The adapter the file was exported from,
            or the model itself (wrapped by :func:`make_adapter`).
        example (Tensor): An input of the layout the file takes (see the
            module docstring); any batch and size its dynamic axes allow.

    Returns:
        float: The largest absolute difference over all outputs.

    Raises:
        ValueError: the two return a different number of outputs, or
            outputs of different shapes.
    """
    adapter = make_adapter(model_adapter)
    example = example.detach().float().to(_device(adapter))
    return _max_abs_diff(
        _run_onnx(path, example), _run_torch(adapter, example))


def _dynamic_axes(ndim: int, level: str) -> Dict[int, str]:
    """Input axis -> name for ``level`` 'full', 'batch' or 'none'."""
    if level == 'none':
        return {}
    axes = {0: 'batch'}
    if level == 'full':
        if ndim == 5:
            axes[2] = 'frames'
        axes[ndim - 2] = 'height'
        axes[ndim - 1] = 'width'
    return axes


def _step(n: int, cap: int) -> int:
    """The largest power of two (<= ``cap``) that divides ``n``."""
    step = 1
    while step < cap and n % (2 * step) == 0:
        step *= 2
    return step


def probe_example(example: torch.Tensor, axes: Dict[int, str]) -> torch.Tensor:
    """A second input, of another size along ``axes``, to run a dynamic
    export at.

    The batch gets one more sample; a spatial (time) axis of size ``n``
    becomes ``n - step``, or ``n + step`` when that would leave less than
    ``step``, where ``step`` is the largest power of two up to 32 (8)
    dividing ``n``: a model that accepted ``n`` (multiples of 32, say)
    accepts the probe, which costs about as much as the example.
    """
    shape = list(example.shape)
    for axis, name in axes.items():
        if axis == 0:
            shape[0] += 1
            continue
        step = _step(shape[axis], 8 if name == 'frames' else 32)
        shape[axis] += -step if shape[axis] >= 2 * step else step
    generator = torch.Generator().manual_seed(0)
    return torch.randn(shape, generator=generator).to(example)


def _check_dynamic(path: str, adapter: nn.Module, example: torch.Tensor,
                   axes: Dict[int, str]) -> Optional[str]:
    """``None`` when the file reproduces PyTorch at :func:`probe_example`'s
    shape, else why not."""
    probe = probe_example(example, axes)
    try:
        ref = _run_torch(adapter, probe)
    except Exception as e:  # the model itself refuses this size
        warnings.warn(f'could not check the dynamic axes: PyTorch fails on '
                      f'a {tuple(probe.shape)} input ({e})')
        return None
    try:
        diff = _max_abs_diff(_run_onnx(path, probe), ref)
    except Exception as e:
        return (f'on a {tuple(probe.shape)} input: '
                f'{str(e).splitlines()[0][:300]}')
    scale = max((float(r.abs().max()) for r in ref if r.numel()), default=0.0)
    if not diff <= 1e-6 + 1e-3 * scale:  # also catches NaN
        return (f'on a {tuple(probe.shape)} input onnxruntime differs from '
                f'PyTorch by {diff:.3g} (outputs up to {scale:.3g}): the '
                'trace froze a size')
    return None


def _pool_matrix(n, size: int, like: torch.Tensor) -> torch.Tensor:
    """``(size, n)`` matrix averaging the bins of adaptive pooling from ``n``
    to ``size`` (PyTorch's bins: ``[floor(i n / size), ceil((i + 1) n /
    size))``), built with tensor ops so that ``n`` may be a traced size."""
    i = torch.arange(size, dtype=torch.long, device=like.device)
    j = torch.arange(n, dtype=torch.long, device=like.device)
    start = torch.div(i * n, size, rounding_mode='floor')
    end = torch.div((i + 1) * n + size - 1, size, rounding_mode='floor')
    mask = ((j[None] >= start[:, None]) & (j[None] < end[:, None])).to(
        like.dtype)
    return mask / mask.sum(1, keepdim=True)


def _matrix_adaptive_avg_pool2d(self, x: torch.Tensor) -> torch.Tensor:
    """``nn.AdaptiveAvgPool2d.forward`` as two matrix products: the same
    bins, but exportable for every input size (the TorchScript exporter only
    exports adaptive pooling to sizes that divide the input's, and then with
    the input size frozen)."""
    out = self.output_size
    out = (out, out) if isinstance(out, int) else tuple(out)
    h, w = x.shape[-2], x.shape[-1]
    oh = h if out[0] is None else out[0]
    ow = w if out[1] is None else out[1]
    rows = _pool_matrix(h, oh, x)
    cols = _pool_matrix(w, ow, x)
    return torch.matmul(torch.matmul(rows, x), cols.transpose(0, 1))


def _same_pad_total(n, kernel: int, stride: int, dilation: int):
    """Total TF "SAME" padding of one axis of size ``n`` (mmcv's
    ``Conv2dAdaptivePadding``), with tensor ops when ``n`` is a traced
    size (mmcv's ``math.ceil`` would freeze it)."""
    extra = (kernel - 1) * dilation + 1
    if stride == 1:  # the same for every size
        return extra - 1
    if not isinstance(n, torch.Tensor):
        return max((-(-n // stride) - 1) * stride + extra - n, 0)
    out = torch.div(n + stride - 1, stride, rounding_mode='floor')
    return torch.clamp((out - 1) * stride + extra - n, min=0)


def _traceable_adaptive_padding_forward(self, x: torch.Tensor):
    """``mmcv.cnn.Conv2dAdaptivePadding.forward`` (TF "SAME" padding for
    the actual input size) whose padding stays a function of the input
    size in a traced graph."""
    h, w = x.shape[-2], x.shape[-1]
    kh, kw = self.kernel_size
    ph = _same_pad_total(h, kh, self.stride[0], self.dilation[0])
    pw = _same_pad_total(w, kw, self.stride[1], self.dilation[1])
    x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
    return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                    self.dilation, self.groups)


def _integral(scale) -> bool:
    scales = scale if isinstance(scale, tuple) else (scale, )
    return all(s is not None and float(s).is_integer() for s in scales)


def _scale_factor_upsample(self, x: torch.Tensor) -> torch.Tensor:
    """mmseg's ``Upsample.forward`` without ``size``: an integral
    ``scale_factor`` passed to ``interpolate`` as is (the same sampling
    as the size ``int(n * scale)`` mmseg computes, which a trace would
    freeze)."""
    return F.interpolate(
        x,
        scale_factor=self.scale_factor,
        mode=self.mode,
        align_corners=self.align_corners)


@contextlib.contextmanager
def _exportable_ops(module: nn.Module):
    """Within the block, layers whose output size a trace would freeze run
    an equivalent that keeps it a function of the input size:

    * ``nn.AdaptiveAvgPool2d`` to an output other than 1 x 1 (PSPNet's
      pyramid; the exporter refuses sizes that do not divide the input's):
      :func:`_matrix_adaptive_avg_pool2d`;
    * mmcv's ``Conv2dAdaptivePadding`` (EfficientNet encoders):
      :func:`_traceable_adaptive_padding_forward` (patched on the class, so
      that subclasses calling ``super().forward`` get it too);
    * mmseg's ``Upsample`` with an integral ``scale_factor`` (mmseg's
      U-Net): :func:`_scale_factor_upsample`.

    The probe of :func:`export_onnx` compares the result with the original
    layers in PyTorch.
    """
    from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
    from mmseg.models.utils.wrappers import Upsample
    patched = []
    for m in module.modules():
        if isinstance(
                m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
            forward = _matrix_adaptive_avg_pool2d
        elif isinstance(m, Upsample) and not m.size and _integral(
                m.scale_factor):
            forward = _scale_factor_upsample
        else:
            continue
        m.forward = types.MethodType(forward, m)
        patched.append(m)
    original = Conv2dAdaptivePadding.forward
    Conv2dAdaptivePadding.forward = _traceable_adaptive_padding_forward
    try:
        yield
    finally:
        Conv2dAdaptivePadding.forward = original
        for m in patched:
            del m.forward


def _torch_export(adapter: nn.Module, example: torch.Tensor, path: str,
                  input_axes: Dict[int, str], output_names: List[str],
                  opset: int) -> None:
    dynamic_axes = None
    if input_axes:
        dynamic_axes = {INPUT_NAME: input_axes}
        if 0 in input_axes:
            dynamic_axes.update({name: {0: 'batch'} for name in output_names})
    with warnings.catch_warnings():
        # the legacy exporter's deprecation notice and the tracer's notes
        # on Python values: what they warn about is checked by the probe
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', message='.*constant folding.*')
        # InstanceNorm uses the input's statistics in eval mode too
        warnings.filterwarnings('ignore', message='.*instance_norm.*')
        with torch.no_grad(), _exportable_ops(adapter):
            torch.onnx.export(
                adapter, (example, ),
                path,
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                do_constant_folding=True)


def _write_metadata(path: str, meta: Dict[str, str]) -> None:
    import onnx
    model = onnx.load(path)
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def onnx_metadata(path: str) -> Dict[str, str]:
    """The ``metadata_props`` of an ONNX file (``mmecho_kind``,
    ``mmecho_dynamic_axes``, ``mmecho_static_reason``...)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def export_onnx(model: nn.Module,
                example: torch.Tensor,
                path: str,
                dynamic: bool = True,
                opset: int = 17) -> str:
    """Export a network to ONNX.

    Args:
        model (nn.Module): An mmecho/mmseg segmentor, an mmdet detector, a
            ``PairwiseRegistrator``, or an adapter from
            :func:`make_adapter`. It is put in eval mode.
        example (Tensor): An input (see the module docstring): ``(B, C, H,
            W)`` normalised image; ``(B, C, T, H, W)`` for a
            ``SequenceSegmentor``; ``(B, 2, H, W)`` (fixed, moving) for a
            registrator.
        path (str): The ``.onnx`` file, written atomically (a temporary
            file in the same folder, then ``os.replace``).
        dynamic (bool): Make the batch (``'batch'``), spatial
            (``'height'``, ``'width'``) and, for 5-D inputs, time
            (``'frames'``) axes dynamic. An export whose graph does not
            reproduce PyTorch at another shape falls back to a dynamic
            batch only, then to static shapes, with a warning saying why.
        opset (int): ONNX opset (>= 16 for the registration networks'
            ``GridSample``).

    Returns:
        str: ``path``.
    """
    adapter = make_adapter(model)
    example = example.detach().float().to(_device(adapter))
    outputs = _run_torch(adapter, example)  # fails early, with torch's words
    names = adapter.output_names(outputs)
    levels = ['full', 'batch', 'none'] if dynamic else ['none']
    reasons = []
    with atomic_write(path, mode=None) as tmp:
        for level in levels:
            axes = _dynamic_axes(example.dim(), level)
            if not axes:
                try:
                    _torch_export(adapter, example, tmp, axes, names, opset)
                except Exception as e:
                    raise RuntimeError(
                        f'ONNX export of {type(adapter.model).__name__} '
                        f'failed: {str(e).splitlines()[0][:500]}') from e
                break
            try:
                _torch_export(adapter, example, tmp, axes, names, opset)
                reason = _check_dynamic(tmp, adapter, example, axes)
            except Exception as e:  # the exporter refused the axes
                reason = f'export failed: {str(e).splitlines()[0][:300]}'
            if reason is None:
                break
            reasons.append(f'{"/".join(axes.values())} dynamic: {reason}')
        if reasons:
            warnings.warn(f'{type(adapter.model).__name__}: exported with '
                          f'{", ".join(axes.values()) or "no"} dynamic axes '
                          f'(input {tuple(example.shape)}); ' +
                          '; '.join(reasons))
        _write_metadata(
            tmp,
            dict(
                mmecho_kind=adapter.kind,
                mmecho_model=type(adapter.model).__name__,
                mmecho_input_shape=','.join(map(str, example.shape)),
                mmecho_dynamic_axes=','.join(f'{k}:{v}'
                                             for k, v in sorted(axes.items())),
                mmecho_static_reason='; '.join(reasons)))
    return path


def _is_sequence(model: nn.Module) -> bool:
    from mmecho.models.segmentors import SequenceSegmentor
    return isinstance(model, SequenceSegmentor)


def _dataset_cfg(cfg) -> dict:
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if loader and isinstance(loader.get('dataset'), dict):
            return loader['dataset']
    return {}


def default_input_shape(
        cfg,
        model: Optional[nn.Module] = None,
        size: Optional[Sequence[int]] = None) -> Tuple[int, ...]:
    """An input shape for ``cfg``'s model (batch 1).

    * segmentation: ``data_preprocessor.size`` (else ``crop_size``, else
      256 x 256), as many channels as ``data_preprocessor.mean`` (else the
      backbone's ``in_channels``, else 3); a ``SequenceSegmentor``: ``(1,
      C, T, H, W)`` with the dataset's ``num_frames`` (16) and ``size``;
    * instance: ``(1, 3, 544, 544)``;
    * registration: ``(1, 2, H, W)`` (fixed, moving), the dataset's
      ``size`` (else 256 x 256).

    Args:
        cfg (Config): The loaded config.
        model (nn.Module, optional): The built model (else built from
            ``cfg.model``, which needs the registries).
        size (Sequence[int], optional): ``(H, W)`` instead of the default.
    """
    if model is None:
        from mmecho.registry import MODELS
        model = MODELS.build(cfg.model)
    kind = model_kind(model)
    mcfg = cfg.model
    dataset = _dataset_cfg(cfg)
    dp = mcfg.get('data_preprocessor') or {}
    if kind == 'instance':
        hw = (544, 544)
        channels = len(dp.get('mean') or [0] * 3)
        shape = (1, channels)
    elif kind == 'registration':
        hw = tuple(dataset.get('size') or (256, 256))
        channels = int(mcfg.get('network', {}).get('in_channels', 1))
        shape = (1, 2 * channels)
    elif _is_sequence(model):
        hw = tuple(dataset.get('size') or (256, 256))
        channels = int(mcfg.get('backbone', {}).get('in_channels', 1))
        shape = (1, channels, int(dataset.get('num_frames', 16)))
    else:
        hw = tuple(dp.get('size') or cfg.get('crop_size') or (256, 256))
        backbone = mcfg.get('backbone') or {}
        channels = len(dp['mean']) if dp.get('mean') else int(
            backbone.get('in_channels', 3))
        shape = (1, channels)
    if size is not None:
        hw = tuple(size)
    return tuple(int(s) for s in shape + tuple(hw))
