# Copyright (c) mmecho contributors. All rights reserved.
"""Build a 2D segmentation model and run it on images, with PyTorch or with
its network exported to ONNX and run by onnxruntime.

    model = init_segmentor('configs/camus/unet/unet_r34_camus.py', 'w.pth')
    model = init_segmentor('configs/camus/unet/unet_r34_camus.py',
                           backend='onnxruntime', onnx='unet.onnx')
    pred = inference_segmentor(model, image)  # pred.labels, pred.probs

Both backends run the same Python code before and after the network; only
the network differs (PyTorch's ``model(x, mode='tensor')``, or the ONNX file
of ``tools/deployment/pytorch2onnx.py``, which holds the network only):

1. the config's test pipeline (:func:`build_inference_pipeline`): the image
   is loaded as the dataset's loader would (``LoadEchoFrame``: grey levels,
   repeated to its ``num_channels``), then resized by the pipeline's
   ``Resize``; the transforms that load or change label maps
   (``LoadEchoLabelMap``, ``LoadAnnotations``, ``BinarizeLabel``) and
   ``ResetOriginalShape`` are left out, so the result is at the image's own
   size;
2. the model's ``data_preprocessor``: normalisation, padding to its
   ``size``;
3. the network's logits;
4. :func:`predict_from_logits`: mmseg's own steps, as ``model.predict``
   runs them: the decode head's resize to the padded input, then
   ``postprocess_result`` (padding removed, bilinear resize to the image,
   argmax, or sigmoid and threshold for a one-channel head, and the CAMUS
   post-processing of ``test_cfg``: largest component, filled holes).

Only ``test_cfg.mode='whole'`` is supported (every mmecho config); the
2D+time ``SequenceSegmentor`` is not.
"""
import copy
import os.path as osp
import warnings
from typing import List, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from mmecho.utils import register_all_modules

BACKENDS = ('pytorch', 'onnxruntime')

#: test-pipeline transforms left out for inference: they read or change
#: label maps, or make the prediction come out at the resized shape
LABEL_TRANSFORMS = ('LoadEchoLabelMap', 'LoadAnnotations', 'BinarizeLabel',
                    'ResetOriginalShape')

#: loaders replaced by :class:`LoadInferenceImage`
LOADERS = ('LoadEchoFrame', 'LoadImageFromFile', 'LoadImageFromNDArray')

#: file name endings read with OpenCV (anything else goes to the config's
#: loader, e.g. ``.nii.gz`` / ``.mhd`` for ``LoadEchoFrame``)
IMAGE_FILE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


class SegmentationPrediction(NamedTuple):
    """The prediction for one image.

    Attributes:
        labels (ndarray): ``(H, W)`` int64 label map at the image's size,
            after the config's post-processing.
        probs (ndarray): ``(K, H, W)`` float32 class probabilities at the
            image's size (softmax of the logits resized to the image, before
            the post-processing; for a one-channel sigmoid head, ``K = 2``:
            background ``1 - p`` and foreground ``p``).
    """
    labels: np.ndarray
    probs: np.ndarray


def _type_name(t) -> str:
    name = t.get('type') if isinstance(t, dict) else type(t).__name__
    name = name if isinstance(name, str) else getattr(name, '__name__', '')
    return name.split('.')[-1]


def _test_pipeline_cfg(cfg) -> list:
    """The pipeline of the test dataloader (what ``tools/test.py`` runs,
    and what ``--cfg-options test_dataloader.dataset.pipeline...``
    changes), else the ``test_pipeline`` variable."""
    pipeline = None
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key)
        if loader and loader.get('dataset', {}).get('pipeline'):
            pipeline = loader['dataset']['pipeline']
            break
    pipeline = pipeline or cfg.get('test_pipeline')
    if not pipeline:
        raise ValueError('the config has no test pipeline (test_pipeline or '
                         'test_dataloader.dataset.pipeline)')
    return [dict(t) for t in pipeline]


class LoadInferenceImage:
    """Loading step of the inference pipeline: an array or a file, as the
    config's loader would see it.

    * ``LoadEchoFrame`` configs (CAMUS): a grey image, ``float32`` in
      0..255 (non-uint8 arrays scaled by their 0.5 / 99.5 percentiles, as
      the loader does), repeated to its ``num_channels``. A colour image is
      converted to grey first (OpenCV's BGR weights). Medical image files
      (``.nii.gz``, ``.mhd``: 2D) are read by ``LoadEchoFrame`` itself.
    * other loaders (``LoadImageFromFile``): the array as is, a grey image
      repeated to 3 channels (BGR order, as OpenCV reads files).

    Args:
        loader (dict): The config's loading transform.
    """

    def __init__(self, loader: dict) -> None:
        self.loader_cfg = dict(loader)
        self.echo = _type_name(loader) == 'LoadEchoFrame'
        self.num_channels = int(loader.get('num_channels', 3))

    def _array(self, img: np.ndarray) -> np.ndarray:
        import cv2

        from mmecho.datasets.transforms.loading import to_uint8_range
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim not in (2, 3) or (img.ndim == 3
                                      and img.shape[2] not in (3, 4)):
            raise ValueError(f'expected an (H, W) or (H, W, 3) image, got '
                             f'shape {img.shape}')
        if not self.echo:
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=2)
            return img[..., :3]
        if img.ndim == 3:
            code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else \
                cv2.COLOR_BGR2GRAY
            img = cv2.cvtColor(
                img if img.dtype in (np.uint8, np.uint16,
                                     np.float32) else img.astype(np.float32),
                code)
        img = to_uint8_range(img)
        return np.repeat(img[..., None], self.num_channels, axis=2)

    def __call__(self, results: dict) -> dict:
        img = results.get('img')
        path = results.get('img_path')
        if img is None:
            if str(path).lower().endswith(IMAGE_FILE_EXTENSIONS):
                import cv2
                img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise ValueError(f'{path}: OpenCV cannot read it')
            else:
                from mmecho.registry import TRANSFORMS
                return TRANSFORMS.build(self.loader_cfg)(results)
        img = self._array(img)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


def build_inference_pipeline(cfg):
    """The config's test pipeline for images without labels (see the
    module docstring): a callable taking ``dict(img=array)`` or
    ``dict(img_path=path)`` and returning the packed inputs."""
    from mmcv.transforms import Compose

    from mmecho.registry import TRANSFORMS
    steps = _test_pipeline_cfg(cfg)
    if not steps or _type_name(steps[0]) not in LOADERS:
        raise ValueError(f'the test pipeline starts with {steps[:1]}, not an '
                         f'image loader ({", ".join(LOADERS)})')
    transforms = [LoadInferenceImage(steps[0])]
    for t in steps[1:]:
        if _type_name(t) not in LABEL_TRANSFORMS:
            transforms.append(TRANSFORMS.build(t))
    return Compose(transforms)


def _check_supported(model: nn.Module) -> nn.Module:
    """The PyTorch segmentor behind ``model`` (itself, or an
    ``ONNXRuntimeSegmentor``'s)."""
    segmentor = getattr(model, 'segmentor', model)
    from mmecho.deployment.onnx_export import _is_sequence, model_kind
    if model_kind(segmentor) != 'segmentation' or _is_sequence(segmentor):
        raise TypeError(f'{type(segmentor).__name__}: not a 2D segmentor')
    mode = (getattr(segmentor, 'test_cfg', None) or {}).get('mode', 'whole')
    if mode != 'whole':
        raise NotImplementedError(
            f'test_cfg.mode={mode!r}: only whole-image inference runs here')
    return segmentor


def init_segmentor(config,
                   checkpoint: Optional[str] = None,
                   device: str = 'cpu',
                   backend: str = 'pytorch',
                   onnx: Optional[str] = None,
                   cfg_options: Optional[dict] = None,
                   allow_partial: bool = False,
                   num_threads: Optional[int] = None) -> nn.Module:
    """Build a 2D segmentation model for :func:`inference_segmentor`.

    Args:
        config (str | Config): e.g. ``configs/camus/unet/unet_r34_camus.py``.
        checkpoint (str, optional): Weights (``backend='pytorch'``), loaded
            without trusting the file and refused when they do not fit
            (:func:`mmecho.engine.load_model_weights`); without one the
            weights are random.
        device (str): Where PyTorch runs (the preprocessing and
            post-processing too); onnxruntime runs on the CPU.
        backend (str): ``'pytorch'`` or ``'onnxruntime'``.
        onnx (str, optional): The exported network
            (``tools/deployment/pytorch2onnx.py``, or its int8 version from
            ``tools/deployment/quantize_onnx.py``); needed by, and only
            taken with, ``backend='onnxruntime'``.
        cfg_options (dict, optional): Overrides merged into the config.
        allow_partial (bool): Accept a checkpoint that misses tensors or has
            other shapes (reported, not raised).
        num_threads (int, optional): onnxruntime's intra-op threads
            (default ``torch.get_num_threads()``).

    Returns:
        nn.Module: The segmentor (PyTorch) or an
        :class:`~mmecho.deployment.onnxruntime_backend.ONNXRuntimeSegmentor`,
        in eval mode, with the config as ``cfg``.
    """
    from mmengine.config import Config

    from mmecho.registry import MODELS
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    if backend == 'onnxruntime':
        if not onnx:
            raise ValueError("backend='onnxruntime' needs onnx=MODEL.onnx")
        if checkpoint:
            raise ValueError("backend='onnxruntime' takes no checkpoint: the "
                             'weights are in the ONNX file')
    elif onnx:
        raise ValueError("onnx=... is for backend='onnxruntime'")
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with warnings.catch_warnings():  # mmseg's build_loss deprecation
        warnings.filterwarnings('ignore', message='.*build_loss.*')
        model = MODELS.build(cfg.model)
    model.cfg = cfg
    _check_supported(model)
    if backend == 'onnxruntime':
        from mmecho.deployment.onnxruntime_backend import (ONNXRuntimeNetwork,
                                                           ONNXRuntimeSegmentor
                                                           )
        network = ONNXRuntimeNetwork(onnx, num_threads, kind='segmentation')
        return ONNXRuntimeSegmentor(model, network).to(device).eval()
    if checkpoint:
        from mmecho.engine.checkpoint import load_model_weights
        load_model_weights(model, checkpoint, allow_partial)
    return model.to(device).eval()


def _pipeline(model: nn.Module):
    pipeline = getattr(model, '_mmecho_inference_pipeline', None)
    if pipeline is None:
        pipeline = build_inference_pipeline(model.cfg)
        # cached on the instance (not a submodule: a plain attribute)
        object.__setattr__(model, '_mmecho_inference_pipeline', pipeline)
    return pipeline


def preprocess(model: nn.Module, image: Union[str, np.ndarray]) -> dict:
    """``image`` (an array, or an image or 2D medical image file) through
    the inference pipeline and the model's ``data_preprocessor``: a dict
    with ``inputs`` (``(1, C, H, W)`` normalised, padded) and
    ``data_samples`` (one ``SegDataSample`` with the image's metadata)."""
    if isinstance(image, np.ndarray):
        data = dict(img=image)
    else:
        if not osp.isfile(str(image)):
            raise FileNotFoundError(f'{image}: no such image file')
        data = dict(img_path=str(image))
    packed = _pipeline(model)(data)
    batch = dict(
        inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    with torch.no_grad():
        return model.data_preprocessor(batch, False)


def network_logits(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The network's logits for preprocessed ``inputs``: ``model(inputs,
    mode='tensor')`` (its first output), for either backend."""
    with torch.no_grad():
        out = model(inputs, mode='tensor')
    while isinstance(out, (list, tuple)):
        out = out[0]
    return out


def predict_from_logits(segmentor: nn.Module,
                        logits: torch.Tensor,
                        inputs: torch.Tensor,
                        data_samples=None) -> list:
    """mmseg's prediction steps after the network, with the segmentor's own
    code: the decode head's ``predict_by_feat`` (bilinear resize of the
    logits to the padded input; skipped when they already have its size,
    as a cascade's do), then ``postprocess_result``.

    Returns:
        list[SegDataSample]: with ``seg_logits`` and ``pred_sem_seg``, as
        ``segmentor.predict(inputs, data_samples)``.
    """
    if data_samples is not None:
        metas = [s.metainfo for s in data_samples]
    else:
        metas = [
            dict(
                ori_shape=inputs.shape[2:],
                img_shape=inputs.shape[2:],
                pad_shape=inputs.shape[2:],
                padding_size=[0, 0, 0, 0])
        ] * inputs.shape[0]
    head = getattr(segmentor, 'decode_head', None)
    if tuple(logits.shape[2:]) != tuple(inputs.shape[2:]):
        if head is None:
            raise ValueError(f'logits of size {tuple(logits.shape[2:])} for '
                             f'inputs of size {tuple(inputs.shape[2:])}')
        logits = head.predict_by_feat(logits, metas)
    return segmentor.postprocess_result(logits, data_samples)


def _prediction(sample) -> SegmentationPrediction:
    labels = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64)
    scores = sample.seg_logits.data.float()
    if scores.shape[0] == 1:  # already sigmoid-ed by postprocess_result
        probs = torch.cat([1 - scores, scores])
    else:
        probs = scores.softmax(dim=0)
    return SegmentationPrediction(labels, probs.cpu().numpy())


def inference_segmentor(
    model: nn.Module, images: Union[str, np.ndarray, Sequence]
) -> Union[SegmentationPrediction, List[SegmentationPrediction]]:
    """Segment images with a model of :func:`init_segmentor` (either
    backend).

    Args:
        model (nn.Module): From :func:`init_segmentor`.
        images: An image (``(H, W)`` grey or ``(H, W, 3)`` BGR array, or the
            path of an image file or of a 2D NIfTI/MetaImage file for
            ``LoadEchoFrame`` configs), or a list of them.

    Returns:
        SegmentationPrediction | list: ``labels`` ``(H, W)`` int64 and
        ``probs`` ``(K, H, W)`` float32 at each image's size; a list for a
        list of images.
    """
    segmentor = _check_supported(model)
    single = not isinstance(images, (list, tuple))
    out = []
    for image in ([images] if single else images):
        data = preprocess(model, image)
        inputs = data['inputs']
        logits = network_logits(model, inputs)
        with torch.no_grad():
            samples = predict_from_logits(segmentor, logits, inputs,
                                          data['data_samples'])
        out.append(_prediction(samples[0]))
    return out[0] if single else out


__all__ = [
    'init_segmentor', 'inference_segmentor', 'SegmentationPrediction',
    'build_inference_pipeline', 'preprocess', 'network_logits',
    'predict_from_logits'
]
