"""Encoders (levels, dilation, truncation, local weights), the thesis
augmentation and the CAMUS post-processing."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmecho.models.backbones import (EfficientNetEncoder, MobileNetV2Encoder,
                                     PlainConvEncoder, ResNetEncoder)
from mmecho.models.data_preprocessors import EchoSegDataPreProcessor
from mmecho.models.utils import keep_largest_component_and_fill


@pytest.mark.parametrize('make', [
    lambda **k: ResNetEncoder(depth=18, **k),
    lambda **k: EfficientNetEncoder(arch='b0', **k),
    lambda **k: MobileNetV2Encoder(**k),
    lambda **k: PlainConvEncoder(base_channels=8, **k)
])
@pytest.mark.parametrize('output_stride', [32, 16, 8])
def test_encoder_levels_and_output_stride(make, output_stride):
    enc = make(output_stride=output_stride)
    x = torch.randn(1, 3, 96, 64)
    feats = enc(x)
    assert len(feats) == 5 and len(enc.out_channels) == 5
    for f, c, s in zip(feats, enc.out_channels, enc.strides):
        assert f.shape[1:] == (c, 96 // s, 64 // s)
    expected = {
        32: (2, 4, 8, 16, 32),
        16: (2, 4, 8, 16, 16),
        8: (2, 4, 8, 8, 8)
    }[output_stride]
    assert enc.strides == expected


def test_encoder_truncation_and_out_indices():
    full = ResNetEncoder(depth=34)
    cut = ResNetEncoder(depth=34, out_indices=(0, 1, 2))
    assert len(cut(torch.randn(1, 3, 64, 64))) == 3
    n_full = sum(p.numel() for p in full.parameters())
    n_cut = sum(p.numel() for p in cut.parameters())
    assert n_cut < n_full / 4  # layer3/layer4 are not built
    sel = EfficientNetEncoder(arch='b0', out_indices=(1, 4))
    a, b = sel(torch.randn(1, 3, 64, 64))
    assert a.shape[-1] == 16 and b.shape[-1] == 2
    with pytest.raises(ValueError, match='out_indices'):
        ResNetEncoder(out_indices=(3, 1))
    with pytest.raises(ValueError, match='output_stride'):
        ResNetEncoder(output_stride=4)


def test_encoder_loads_local_weights_of_the_wrapped_network(tmp_path):
    src = ResNetEncoder(depth=18)
    torch.nn.init.constant_(src.body.conv1.weight, 0.25)
    path = tmp_path / 'resnet18.pth'
    torch.save(src.body.state_dict(), path)  # torchvision-style keys
    dst = ResNetEncoder(depth=18, pretrained=str(path))
    dst.init_weights()  # must not overwrite the loaded weights
    assert torch.equal(dst.body.conv1.weight, src.body.conv1.weight)


def _samples(labels):
    out = []
    for lab in labels:
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(data=torch.as_tensor(lab)[None].long())
        ds.set_metainfo(dict(img_shape=lab.shape, ori_shape=lab.shape))
        out.append(ds)
    return out


def test_thesis_augmentation_moves_image_and_labels_together():
    torch.manual_seed(0)
    pre = EchoSegDataPreProcessor(
        mean=[0.0],
        std=[1.0],
        size=(64, 64),
        augment=dict(max_shift=0.2, scale_range=(0.5, 2.0)))
    lab = np.zeros((64, 64), np.int64)
    lab[20:40, 24:44] = 1
    img = torch.from_numpy(lab * 200.0 + 10.0).float()[None]
    batch = dict(
        inputs=[img.clone() for _ in range(4)],
        data_samples=_samples([lab] * 4))
    out = pre(batch, training=True)
    moved = 0
    for x, ds in zip(out['inputs'], out['data_samples']):
        y = ds.gt_sem_seg.data[0]
        assert set(y.unique().tolist()) <= {0, 1}
        inside = x[0][y == 1]
        # labels follow the image: labelled pixels are bright (interior)
        assert inside.numel() == 0 or inside.mean() > 150
        moved += int(not torch.equal(y, torch.from_numpy(lab)))
    assert moved >= 3  # random per image
    # padding from outside the image is black (0 before normalisation)
    assert out['inputs'].min() >= -1e-3
    # evaluation: untouched
    batch = dict(inputs=[img.clone()], data_samples=_samples([lab]))
    ev = pre(batch, training=False)
    assert torch.equal(ev['data_samples'][0].gt_sem_seg.data[0],
                       torch.from_numpy(lab))
    with pytest.raises(ValueError, match='augment'):
        EchoSegDataPreProcessor(augment='heavy')


def test_largest_component_and_hole_filling():
    lab = np.zeros((40, 40), np.uint8)
    lab[5:35, 5:35] = 2  # myocardium
    lab[10:30, 10:30] = 1  # cavity inside it: not a hole of class 2
    lab[18:21, 18:21] = 0  # a hole in the cavity
    lab[0:2, 38:40] = 1  # a stray cavity island
    out = keep_largest_component_and_fill(lab)
    assert out[19, 19] == 1  # hole filled
    assert (out[0:2, 38:40] == 0).all()  # island removed
    assert (out[12:28, 12:28] == 1).all()  # cavity not overwritten by myo
    assert (out == 2).sum() == (lab == 2).sum()
