# Copyright (c) mmecho contributors. All rights reserved.
"""int8 static quantisation of exported networks, with onnxruntime's
quantisation tools.

:func:`quantize_onnx` takes an fp32 file of
:func:`~mmecho.deployment.export_onnx` and calibration inputs (the tensors
the network sees at inference: normalised, resized, padded), runs
``onnxruntime.quantization.quant_pre_process`` (shape inference and graph
optimisation) and ``quantize_static`` (MinMax calibration by default,
QDQ format: ``QuantizeLinear``/``DequantizeLinear`` pairs around the
quantised operators, which onnxruntime's CPU provider fuses into int8
kernels), and writes the int8 file atomically with the fp32 file's
``mmecho_*`` metadata plus ``mmecho_quantization`` (how it was made).

Defaults follow onnxruntime's guidance for x86-64 CPUs with VNNI (the
int8 dot-product instructions of AVX512-VNNI / AVX-VNNI): uint8 activations
(asymmetric), int8 weights, per-channel weight scales (per output channel of
``Conv``, ``ConvTranspose``, ``Gemm``/``MatMul`` weights: "where supported"
is onnxruntime's list of per-channel operators), no range reduction. Pass
``reduce_range=True`` for CPUs without VNNI (7-bit weights avoid the
saturation of their u8 x s8 instruction).

Calibration inputs come from images (:func:`calibration_inputs`): a folder
of image files (``.png``, ``.jpg``...) and/or medical images (``.nii``,
``.nii.gz``, ``.mhd``; label files ``*_gt*`` and pseudo-labels are skipped),
prepared as the inference code prepares them:

* segmentation: the config's test pipeline and ``data_preprocessor``
  (:mod:`mmecho.apis.segmentation_inference`);
* instance: mmdet's ``inference_detector`` preprocessing with the config's
  test pipeline and ``data_preprocessor`` (what ``MModeMeasurer`` feeds the
  network);
* registration: pairs of consecutive frames of each sequence (fixed = the
  later frame, moving = the earlier, as the pseudo-label propagation
  registers them), intensities / 255, resized (area) to the file's size.
"""
import copy
import logging
import os
import os.path as osp
import tempfile
import time
import warnings
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch

from .onnx_export import onnx_metadata

#: image files read with OpenCV
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
#: medical image files read with ``mmecho.datasets.io``
MEDICAL_EXTENSIONS = ('.nii', '.nii.gz', '.mhd')
#: name parts of label files, never used for calibration
LABEL_MARKERS = ('_gt', '_pseudo', 'label', 'mask')

QUANT_TYPES = ('uint8', 'int8')
CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')


class ArrayCalibrationReader:
    """An onnxruntime ``CalibrationDataReader`` feeding a list of arrays to
    the file's one input.

    Args:
        input_name (str): The ONNX input (``'inputs'`` for mmecho files).
        arrays (Iterable[ndarray]): float32 inputs, each a batch the file
            takes (batch 1 is fine for any file with a dynamic batch).
    """

    def __init__(self, input_name: str, arrays: Iterable[np.ndarray]):
        self.input_name = input_name
        self.arrays = [
            np.ascontiguousarray(a, dtype=np.float32) for a in arrays
        ]
        if not self.arrays:
            raise ValueError('no calibration inputs')
        self._next = 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self._next >= len(self.arrays):
            return None
        self._next += 1
        return {self.input_name: self.arrays[self._next - 1]}

    def rewind(self) -> None:
        self._next = 0

    def __len__(self) -> int:
        return len(self.arrays)


def _reader_class():
    """:class:`ArrayCalibrationReader` as a subclass of onnxruntime's
    ``CalibrationDataReader`` (imported lazily: onnxruntime is optional)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(ArrayCalibrationReader, CalibrationDataReader):
        pass

    return Reader


def _is_label(name: str) -> bool:
    low = name.lower()
    return any(m in low for m in LABEL_MARKERS)


def _ext(path: str) -> str:
    low = path.lower()
    return '.nii.gz' if low.endswith('.nii.gz') else osp.splitext(low)[1]


def find_calibration_files(source) -> List[str]:
    """Image and medical image files of ``source`` (a folder, searched
    recursively, a file, or a list of them), sorted, label files left out.

    Raises:
        FileNotFoundError: nothing usable there.
    """
    sources = [source] if isinstance(source, str) else list(source)
    files = []
    for src in sources:
        if osp.isfile(src):
            files.append(src)
            continue
        if not osp.isdir(src):
            raise FileNotFoundError(f'{src}: no such file or folder')
        for root, dirs, names in os.walk(src):
            dirs.sort()
            for n in sorted(names):
                if _ext(n) in IMAGE_EXTENSIONS + MEDICAL_EXTENSIONS and \
                        not _is_label(n):
                    files.append(osp.join(root, n))
    if not files:
        raise FileNotFoundError(
            f'{source}: no image ({", ".join(IMAGE_EXTENSIONS)}) or medical '
            f'image ({", ".join(MEDICAL_EXTENSIONS)}) files to calibrate on')
    return files


def load_frames(path: str) -> List[np.ndarray]:
    """The 2D images of a file: one for an image file (BGR or grey, as
    OpenCV reads it) or a 2D medical image, every frame of a sequence
    (``(T, H, W)``); medical intensities as ``LoadEchoFrame`` maps them to
    0..255 (uint8 kept, other types by percentiles)."""
    if _ext(path) in IMAGE_EXTENSIONS:
        import cv2
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise ValueError(f'{path}: OpenCV cannot read it')
        return [img]
    from mmecho.datasets.io import load_medical_image
    from mmecho.datasets.transforms.loading import to_uint8_range
    array = np.asarray(load_medical_image(path)[0])
    if array.ndim == 2:
        array = array[None]
    array = array.reshape((-1, ) + array.shape[-2:])
    return [to_uint8_range(a).round().astype(np.uint8) for a in array]


def _spread(items: Sequence, num: int) -> list:
    """``num`` items evenly spread over ``items`` (all if fewer)."""
    if num <= 0 or len(items) <= num:
        return list(items)
    idx = np.linspace(0, len(items) - 1, num).round().astype(int)
    return [items[i] for i in idx]


def _image_frames(files: Sequence[str], num: int) -> List[np.ndarray]:
    """Up to ``num`` 2D images: one per file (a sequence's middle frame)
    when there are enough files, else several frames per sequence."""
    per_file = max(1, -(-num // max(len(files), 1)))
    frames = []
    for path in _spread(files, num):
        f = load_frames(path)
        frames += _spread(f, per_file) if per_file > 1 else [f[len(f) // 2]]
    return _spread(frames, num)


def segmentation_calibration_inputs(config,
                                    files: Sequence[str],
                                    num: int = 32) -> List[np.ndarray]:
    """Preprocessed ``(1, C, H, W)`` inputs of a segmentation config's
    network (test pipeline and ``data_preprocessor``)."""
    from mmecho.apis.segmentation_inference import init_segmentor, preprocess
    model = init_segmentor(config)  # random weights: only its preprocessing
    return [
        preprocess(model, img)['inputs'].cpu().numpy()
        for img in _image_frames(files, num)
    ]


class _InputCapture(torch.nn.Module):
    """Stands in for a detector in mmdet's ``inference_detector``: records
    the network input its ``data_preprocessor`` makes."""

    def __init__(self, detector: torch.nn.Module) -> None:
        super().__init__()
        # a copy: inference_detector edits the pipeline of the cfg it gets
        self.cfg = copy.deepcopy(detector.cfg)
        self.data_preprocessor = detector.data_preprocessor
        self.inputs = []

    def test_step(self, data: dict) -> list:
        self.inputs.append(self.data_preprocessor(data, False)['inputs'])
        return [None]


def instance_calibration_inputs(config,
                                files: Sequence[str],
                                num: int = 32) -> List[np.ndarray]:
    """Preprocessed ``(1, 3, H, W)`` inputs of an instance config's network,
    as ``inference_detector`` (and so ``MModeMeasurer``) prepares an image
    array."""
    from mmdet.apis import inference_detector

    from mmecho.apis.instance_inference import init_instance_model
    capture = _InputCapture(init_instance_model(config))
    for img in _image_frames(files, num):
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        inference_detector(capture, img[..., :3])
    return [x.cpu().numpy() for x in capture.inputs]


def registration_calibration_inputs(files: Sequence[str],
                                    size: Sequence[int],
                                    num: int = 32,
                                    channels: int = 1) -> List[np.ndarray]:
    """``(1, 2C, h, w)`` (fixed, moving) pairs in [0, 1]: consecutive frames
    of each sequence (or of the sorted 2D files when there are no
    sequences), resized with area interpolation to ``size``."""
    import torch.nn.functional as F
    sequences = [load_frames(p) for p in files]
    multi = [s for s in sequences if len(s) > 1]
    if not multi:
        multi = [[s[0] for s in sequences]]
    pairs = [(s[t + 1], s[t]) for s in multi for t in range(len(s) - 1)]
    if not pairs:
        raise ValueError('registration calibration needs at least two '
                         'frames (a sequence, or two images)')

    def prep(img):
        img = np.asarray(img)
        if img.ndim == 3:
            img = img.mean(axis=2)
        x = torch.as_tensor(img, dtype=torch.float32)[None, None] / 255.0
        if tuple(x.shape[2:]) != tuple(size):
            x = F.interpolate(x, size=tuple(size), mode='area')
        return x.expand(1, channels, -1, -1)

    return [
        torch.cat([prep(f), prep(m)], dim=1).numpy()
        for f, m in _spread(pairs, num)
    ]


def calibration_inputs(onnx_path: str,
                       source,
                       config=None,
                       num: int = 32) -> List[np.ndarray]:
    """Calibration inputs for an exported network, by its kind (the file's
    ``mmecho_kind`` metadata).

    Args:
        onnx_path (str): The fp32 file.
        source (str | list): Folder(s) or files of images
            (:func:`find_calibration_files`).
        config (str | Config, optional): The model's config: needed for
            segmentation and instance networks (their normalisation and
            resize live there, not in the file).
        num (int): How many inputs (spread evenly over the files).
    """
    meta = onnx_metadata(onnx_path)
    kind = meta.get('mmecho_kind')
    files = find_calibration_files(source)
    if kind == 'registration':
        shape = [int(s) for s in meta['mmecho_input_shape'].split(',')]
        return registration_calibration_inputs(files, shape[2:], num,
                                               shape[1] // 2)
    if kind not in ('segmentation', 'instance'):
        raise ValueError(f'{onnx_path}: not an mmecho export (metadata '
                         f'mmecho_kind={kind!r})')
    if config is None:
        raise ValueError(f'{onnx_path} holds a {kind} network: give its '
                         'config (the normalisation and resize of its '
                         'inputs are there)')
    if kind == 'segmentation':
        return segmentation_calibration_inputs(config, files, num)
    return instance_calibration_inputs(config, files, num)


def quantized_op_counts(path: str) -> Counter:
    """How many ``QuantizeLinear``, ``DequantizeLinear`` and ``QLinear*``
    / integer nodes the file holds (its graph, before onnxruntime's own
    fusions)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return Counter(
        n.op_type for n in model.graph.node
        if n.op_type in ('QuantizeLinear', 'DequantizeLinear')
        or n.op_type.startswith('QLinear') or n.op_type.endswith('Integer'))


def _quant_type(name: str):
    from onnxruntime.quantization import QuantType
    if name not in QUANT_TYPES:
        raise ValueError(f'quantisation type must be one of {QUANT_TYPES}, '
                         f'got {name!r}')
    return QuantType.QUInt8 if name == 'uint8' else QuantType.QInt8


class _AxisNotes(logging.Filter):
    """Swallows (and counts) onnxruntime's root-logger warning that a
    weight has no channel axis (a rank-1 weight, e.g. a scale of ``Mul``):
    it falls back to one scale for the tensor, as it should."""

    def __init__(self) -> None:
        super().__init__()
        self.weights = set()

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if msg.startswith('Axis ') and 'out-of-range for weight' in msg:
            self.weights.add(msg.split("'")[1] if "'" in msg else msg)
            return False
        return True


def _preprocess(src: str, dst: str) -> str:
    """``quant_pre_process`` (symbolic shape inference, then onnxruntime's
    basic optimisations: constant folding, Conv+BN fusion...), with fewer
    steps when a step fails; returns what it did."""
    from onnxruntime.quantization import quant_pre_process
    attempts = [
        ('shape inference and optimisation', {}),
        ('optimisation, ONNX shape inference', dict(skip_symbolic_shape=True)),
        ('optimisation only',
         dict(skip_symbolic_shape=True, skip_onnx_shape=True)),
    ]
    errors = []
    src, dst = osp.abspath(src), osp.abspath(dst)
    cwd = os.getcwd()
    for what, kwargs in attempts:
        try:
            # quant_pre_process leaves temporary files (symbolic shape
            # inference's model, external-data files) in the working
            # directory: work in dst's (temporary) folder
            os.chdir(osp.dirname(dst))
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                quant_pre_process(src, dst, **kwargs)
            return what
        except Exception as e:  # symbolic shape inference is brittle
            errors.append(f'{what}: {str(e).splitlines()[0][:200]}'
                          if str(e) else f'{what}: {type(e).__name__}')
        finally:
            os.chdir(cwd)
    warnings.warn('quant_pre_process failed (' + '; '.join(errors) +
                  '): quantising the file as exported')
    import shutil
    shutil.copyfile(src, dst)
    return 'none'


def quantize_onnx(model_path: str,
                  out_path: str,
                  calibration: Iterable[np.ndarray],
                  per_channel: bool = True,
                  activation_type: str = 'uint8',
                  weight_type: str = 'int8',
                  reduce_range: bool = False,
                  calibrate_method: str = 'minmax',
                  preprocess: bool = True,
                  nodes_to_exclude: Optional[Sequence[str]] = None,
                  op_types_to_quantize: Optional[Sequence[str]] = None,
                  extra_options: Optional[dict] = None) -> Dict:
    """Write an int8 (QDQ) version of an exported fp32 network.

    Args:
        model_path (str): fp32 ``.onnx`` file of
            :func:`~mmecho.deployment.export_onnx`.
        out_path (str): The int8 file, written atomically.
        calibration (Iterable[ndarray]): Inputs the network sees at
            inference (:func:`calibration_inputs`); the activation ranges
            come from them.
        per_channel (bool): One weight scale per output channel where
            onnxruntime supports it (Conv, ConvTranspose, Gemm, MatMul).
        activation_type (str): ``'uint8'`` (default, asymmetric) or
            ``'int8'``.
        weight_type (str): ``'int8'`` (default) or ``'uint8'``.
        reduce_range (bool): 7-bit weights (CPUs without VNNI).
        calibrate_method (str): ``'minmax'``, ``'entropy'`` or
            ``'percentile'``.
        preprocess (bool): Run ``quant_pre_process`` first (recommended).
        nodes_to_exclude (Sequence[str], optional): Nodes kept in fp32.
        op_types_to_quantize (Sequence[str], optional): Default: all that
            onnxruntime quantises.
        extra_options (dict, optional): ``quantize_static``'s.

    Returns:
        dict: ``path``, ``calibration_inputs`` (count), ``seconds``,
        ``preprocess`` (what ``quant_pre_process`` did), ``ops`` (counts of
        quantisation nodes, :func:`quantized_op_counts`), ``settings``.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          quantize_static)

    from mmecho.utils import atomic_write
    methods = dict(
        minmax=CalibrationMethod.MinMax,
        entropy=CalibrationMethod.Entropy,
        percentile=CalibrationMethod.Percentile)
    if calibrate_method not in methods:
        raise ValueError(f'calibrate_method must be one of '
                         f'{CALIBRATION_METHODS}, got {calibrate_method!r}')
    act, wt = _quant_type(activation_type), _quant_type(weight_type)
    if not osp.isfile(model_path):
        raise FileNotFoundError(f'{model_path}: no such ONNX file')
    meta = onnx_metadata(model_path)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        src = model_path
        how = 'none'
        if preprocess:
            src = osp.join(tmp, 'preprocessed.onnx')
            how = _preprocess(model_path, src)
        first = onnx.load(src, load_external_data=False)
        reader = _reader_class()(first.graph.input[0].name, calibration)
        options = dict(extra_options or {})
        notes = _AxisNotes()
        root = logging.getLogger()
        with atomic_write(out_path, mode=None) as out_tmp:
            root.addFilter(notes)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    quantize_static(
                        src,
                        out_tmp,
                        reader,
                        quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=list(op_types_to_quantize)
                        if op_types_to_quantize else None,
                        per_channel=per_channel,
                        reduce_range=reduce_range,
                        activation_type=act,
                        weight_type=wt,
                        nodes_to_exclude=list(nodes_to_exclude or []),
                        calibrate_method=methods[calibrate_method],
                        extra_options=options)
            finally:
                root.removeFilter(notes)
            settings = (f'static QDQ, activations {activation_type}, weights '
                        f'{weight_type}'
                        f'{" per channel" if per_channel else ""}'
                        f'{", reduced range" if reduce_range else ""}, '
                        f'{calibrate_method} calibration on {len(reader)} '
                        f'inputs, pre-processing: {how}')
            if notes.weights:
                settings += (f'; {len(notes.weights)} weights without a '
                             'channel axis have one scale')
            model = onnx.load(out_tmp)
            del model.metadata_props[:]
            for key, value in meta.items():
                entry = model.metadata_props.add()
                entry.key, entry.value = key, value
            entry = model.metadata_props.add()
            entry.key, entry.value = 'mmecho_quantization', settings
            onnx.checker.check_model(model)
            onnx.save(model, out_tmp)
    return dict(
        path=out_path,
        calibration_inputs=len(reader),
        seconds=time.perf_counter() - start,
        preprocess=how,
        ops=dict(quantized_op_counts(out_path)),
        settings=settings)


__all__ = [
    'quantize_onnx', 'calibration_inputs', 'find_calibration_files',
    'load_frames', 'segmentation_calibration_inputs',
    'instance_calibration_inputs', 'registration_calibration_inputs',
    'ArrayCalibrationReader', 'quantized_op_counts'
]
