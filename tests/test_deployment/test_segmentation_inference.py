"""The segmentation inference API (mmecho/apis/segmentation_inference.py)
with both backends: the same preprocessing and post-processing around
PyTorch's network or the ONNX file's, so the same label maps.

Model: U-Net-ResNet34, the CAMUS grid cell ``configs/camus/unet/
unet_r34_camus.py`` (256 x 256 input, 4 classes, CAMUS post-processing:
largest component, filled holes), random weights (seed 0) with random
BatchNorm statistics, on phantom frames of 128 x 96 (resized to 256 and
back). Probabilities: onnxruntime's logits differ from PyTorch's by ~1e-6,
so the probabilities agree to 1e-4 and the label maps exactly (a pixel
whose two best logits lie within ~1e-6 could flip: none does here).
"""
import glob
import os.path as osp

import numpy as np
import pytest
import torch

from ..conftest import ROOT

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

CONFIG = osp.join(ROOT, 'configs/camus/unet/unet_r34_camus.py')
PROB_TOL = 1e-4


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """(PyTorch model, its checkpoint, onnxruntime model, ONNX file)."""
    from mmengine.runner import save_checkpoint

    from mmecho.apis import init_segmentor
    from mmecho.deployment import export_onnx
    tmp = tmp_path_factory.mktemp('seg_api')
    torch.manual_seed(0)
    model = init_segmentor(CONFIG)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    ckpt = str(tmp / 'r34.pth')
    save_checkpoint(model.state_dict(), ckpt)
    onnx_path = export_onnx(model, torch.randn(1, 3, 256, 256),
                            str(tmp / 'r34.onnx'))
    ort_model = init_segmentor(CONFIG, backend='onnxruntime', onnx=onnx_path)
    return model, ckpt, ort_model, onnx_path


@pytest.fixture(scope='module')
def frames(camus_root):
    """Two phantom frames: an ED file and a half-sequence frame."""
    from mmecho.datasets.io import load_medical_image
    ed = sorted(
        glob.glob(
            osp.join(camus_root, 'database_nifti', '*', '*_4CH_ED.nii.gz')))
    seq = sorted(
        glob.glob(
            osp.join(camus_root, 'database_nifti', '*',
                     '*_2CH_half_sequence.nii.gz')))
    return ed[0], load_medical_image(seq[1])[0][3]


def test_backends_give_the_same_masks(models, frames):
    from mmecho.apis import SegmentationPrediction, inference_segmentor
    from mmecho.deployment.onnxruntime_backend import ONNXRuntimeSegmentor
    model, _, ort_model, _ = models
    assert isinstance(ort_model, ONNXRuntimeSegmentor)
    # the weights come from the file only: the network modules are gone,
    # and what is left (the decode head, for its settings) is never run
    seg = ort_model.segmentor
    assert seg.backbone is None
    with torch.no_grad():
        for p in ort_model.parameters():
            p.fill_(float('nan'))
    a = inference_segmentor(model, list(frames))
    b = inference_segmentor(ort_model, list(frames))
    assert len(a) == len(b) == 2
    for pa, pb in zip(a, b):
        assert isinstance(pa, SegmentationPrediction)
        assert pa.labels.shape == (128, 96) and pa.labels.dtype == np.int64
        assert pa.probs.shape == (4, 128, 96) and pa.probs.dtype == np.float32
        np.testing.assert_allclose(pa.probs.sum(0), 1, atol=1e-5)
        assert len(np.unique(pa.labels)) > 1  # not a trivial map
        assert np.array_equal(pa.labels, pb.labels)
        assert np.abs(pa.probs - pb.probs).max() < PROB_TOL
    single = inference_segmentor(ort_model, frames[0])
    assert np.array_equal(single.labels, b[0].labels)


def test_pytorch_path_is_mmseg_predict(models, frames):
    """The API's PyTorch path (tensor-mode logits, then
    ``predict_from_logits``) is the model's own ``predict``, CAMUS
    post-processing included."""
    from mmecho.apis import inference_segmentor
    from mmecho.apis.segmentation_inference import preprocess
    model = models[0]
    data = preprocess(model, frames[0])
    assert tuple(data['inputs'].shape) == (1, 3, 256, 256)
    with torch.no_grad():
        ref = model.predict(data['inputs'], data['data_samples'])[0]
    got = inference_segmentor(model, frames[0])
    assert np.array_equal(ref.pred_sem_seg.data[0].numpy(), got.labels)
    # a grey array, the same image as a 3-channel BGR array, and its file
    from mmecho.datasets.io import load_medical_image
    grey = load_medical_image(frames[0])[0]
    bgr = np.repeat(grey[..., None], 3, axis=2)
    for image in (grey, bgr):
        assert np.array_equal(
            inference_segmentor(model, image).labels, got.labels)


def test_checkpoint_and_arguments(models, frames, tmp_path):
    from mmecho.apis import inference_segmentor, init_segmentor
    model, ckpt, _, onnx_path = models
    again = init_segmentor(CONFIG, ckpt)
    assert np.array_equal(
        inference_segmentor(again, frames[1]).labels,
        inference_segmentor(model, frames[1]).labels)
    with pytest.raises(ValueError, match='backend'):
        init_segmentor(CONFIG, backend='tensorrt')
    with pytest.raises(ValueError, match='needs onnx'):
        init_segmentor(CONFIG, backend='onnxruntime')
    with pytest.raises(ValueError, match='no checkpoint'):
        init_segmentor(CONFIG, ckpt, backend='onnxruntime', onnx=onnx_path)
    with pytest.raises(ValueError, match="backend='onnxruntime'"):
        init_segmentor(CONFIG, onnx=onnx_path)
    with pytest.raises(FileNotFoundError):
        init_segmentor(
            CONFIG, backend='onnxruntime', onnx=str(tmp_path / 'x.onnx'))
    with pytest.raises(FileNotFoundError):
        inference_segmentor(model, str(tmp_path / 'missing.png'))


def test_instance_file_is_refused(tmp_path):
    from mmengine.config import Config

    from mmecho.apis import init_segmentor
    from mmecho.deployment import export_onnx
    from mmecho.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/meis/rtm_assigner.py'))
    path = export_onnx(
        MODELS.build(cfg.model),
        torch.randn(1, 3, 160, 160),
        str(tmp_path / 'i.onnx'),
        dynamic=False)
    with pytest.raises(ValueError, match='instance network'):
        init_segmentor(CONFIG, backend='onnxruntime', onnx=path)


def test_cascade_logits_at_input_size(tmp_path, frames):
    """RU-Net (a cascade: its tensor-mode logits are at the input size
    already) at 64 x 64: both backends, and PyTorch's predict."""
    from mmecho.apis import inference_segmentor, init_segmentor
    from mmecho.apis.segmentation_inference import preprocess
    from mmecho.deployment import export_onnx
    config = osp.join(ROOT, 'configs/runet/runet_camus.py')
    small = {
        'model.data_preprocessor.size': (64, 64),
        'test_dataloader.dataset.pipeline.1.scale': (64, 64)
    }
    torch.manual_seed(0)
    model = init_segmentor(config, cfg_options=small)
    data = preprocess(model, frames[0])
    assert tuple(data['inputs'].shape[2:]) == (64, 64)
    path = export_onnx(model, torch.randn(1, 3, 64, 64),
                       str(tmp_path / 'runet.onnx'))
    ort_model = init_segmentor(
        config, backend='onnxruntime', onnx=path, cfg_options=small)
    a = inference_segmentor(model, frames[0])
    b = inference_segmentor(ort_model, frames[0])
    with torch.no_grad():
        ref = model.predict(data['inputs'], data['data_samples'])[0]
    assert np.array_equal(ref.pred_sem_seg.data[0].numpy(), a.labels)
    assert np.array_equal(a.labels, b.labels)
    assert np.abs(a.probs - b.probs).max() < PROB_TOL
