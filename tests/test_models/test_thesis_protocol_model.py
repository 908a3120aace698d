"""The thesis protocol's model parts (paper 002, appendix): its U-Net, the
DiceBCE loss and one-channel heads on every grid architecture."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine import Config

from mmecho.grid import ARCHITECTURES, leaf_config_path
from mmecho.models.losses import DiceBCELoss
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules

from ..conftest import ROOT
from .seg_samples import random_seg_samples

register_all_modules()


def _thesis_model(arch, enc):
    cfg = Config.fromfile(
        f'{ROOT}/' + leaf_config_path(arch, enc, protocol='thesis'))
    return MODELS.build(cfg.model)


def _appendix_unet_params(size=32, n_channels=3, n_class=1):
    """The appendix's ``UNet`` counted by hand: conv_block(i, o) = 3x3 conv
    i->o (no bias) + BN(o) + 3x3 conv o->o (no bias) + BN(o); the 3x3 output
    conv has a bias."""

    def block(i, o):
        return 9 * i * o + 2 * o + 9 * o * o + 2 * o

    s = size
    down = block(n_channels, s) + block(s, 2 * s) + block(2 * s, 4 * s) + \
        block(4 * s, 8 * s)
    up = block(4 * s + 8 * s, 4 * s) + block(2 * s + 4 * s, 2 * s) + \
        block(2 * s + s, s)
    return down + up + 9 * s * n_class + n_class


def test_appendix_unet_has_the_appendix_parameter_count_and_layers():
    model = _thesis_model('unet', 'plain')
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert n == _appendix_unet_params() == 1948545
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    # 4 encoder + 3 decoder double convs, then the classifier
    assert len(convs) == 15
    assert all(c.bias is None for c in convs[:-1])
    assert convs[-1].kernel_size == (3, 3) and convs[-1].bias is not None
    assert model.backbone.upsample_mode == 'bilinear'
    assert model.backbone.align_corners is True
    # three poolings: a 40x40 input comes back 40x40 (bilinear upsampling
    # to the skip size)
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 40, 40), mode='tensor')
    assert out.shape == (1, 1, 40, 40)


def test_appendix_unet_is_he_initialised():
    torch.manual_seed(0)
    model = _thesis_model('unet', 'plain')
    model.init_weights()
    conv = model.backbone.encoder[3][1].conv  # 256->256 3x3
    fan_in = conv.weight[0].numel()
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2.0 / fan_in), rel=0.05)
    head = model.decode_head.conv_seg
    assert head.weight.std().item() == pytest.approx(
        math.sqrt(2.0 / head.weight[0].numel()), rel=0.25)
    assert float(head.bias.detach().abs().max()) == 0.0


@pytest.mark.parametrize('arch', list(ARCHITECTURES))
def test_every_architecture_has_one_sigmoid_channel(arch):
    enc = 'plain' if arch == 'unet' else 'mbv2'
    model = _thesis_model(arch, enc)
    assert model.decode_head.out_channels == 1
    assert model.decode_head.threshold == 0.5
    size = 128  # PAN's pyramid attention needs 128x128 at least (as smp)
    samples = random_seg_samples(2, size, num_classes=2)
    losses = model.loss(torch.randn(2, 3, size, size), samples)
    assert set(k for k in losses if 'loss' in k) == {
        'decode.loss_dice_bce'
    }
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, size, size), samples[:1])
    prob = out[0].seg_logits.data
    assert prob.shape == (1, size, size)
    assert float(prob.min()) >= 0.0 and float(prob.max()) <= 1.0
    assert torch.equal(out[0].pred_sem_seg.data.bool(), prob > 0.5)


def test_thesis_preprocessor_normalises_with_imagenet_statistics():
    model = _thesis_model('linknet', 'mbv2')
    pre = model.data_preprocessor
    assert pre.mean.flatten().tolist() == pytest.approx(
        [0.485 * 255, 0.456 * 255, 0.406 * 255], abs=1e-3)
    assert pre.std.flatten().tolist() == pytest.approx(
        [0.229 * 255, 0.224 * 255, 0.225 * 255], abs=1e-3)


def _appendix_dice_bce(logits, target, weight=0.5, smooth=1.0):
    """The appendix's DiceBCELoss, its own formulation: sigmoid, then
    ``F.binary_cross_entropy`` on probabilities and ``dice_loss`` over the
    flattened batch."""
    pred = torch.sigmoid(logits).reshape(-1)
    t = target.reshape(-1).float()
    dice = 1 - (2 * (pred * t).sum() + smooth) / (pred.sum() + t.sum() +
                                                 smooth)
    bce = F.binary_cross_entropy(pred, t, reduction='mean')
    return weight * bce + dice * (1 - weight)


def test_dice_bce_equals_the_appendix_formula():
    torch.manual_seed(0)
    logits = torch.randn(4, 1, 16, 16) * 3
    target = (torch.rand(4, 16, 16) > 0.6).long()
    ours = DiceBCELoss(weight=0.5)(logits, target)
    assert float(ours) == pytest.approx(
        float(_appendix_dice_bce(logits, target)), rel=1e-5)


def test_dice_bce_closed_forms():
    loss = DiceBCELoss(weight=0.5)
    # logits 0: p = 1/2 everywhere; all-foreground target of n pixels:
    # BCE = ln 2, Dice = (n + 1) / (1.5 n + 1)
    n = 64
    value = loss(torch.zeros(1, 1, 8, 8), torch.ones(1, 8, 8, dtype=torch.long))
    dice = (n + 1) / (1.5 * n + 1)
    assert float(value) == pytest.approx(
        0.5 * math.log(2) + 0.5 * (1 - dice), rel=1e-6)
    # a confident, correct prediction costs (almost) nothing
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[:, 2:6, 2:6] = 1
    logits = (target.float() * 2 - 1)[:, None] * 50
    assert float(loss(logits, target)) < 1e-6
    # ignored pixels are left out of both terms
    ignored = target.clone()
    ignored[:, 0, :] = 255
    wrong = logits.clone()
    wrong[:, :, 0, :] = 50  # confidently wrong, but only where ignored
    assert float(loss(wrong, ignored)) < 1e-6


def test_dice_bce_refuses_multiclass_labels_and_logits():
    loss = DiceBCELoss()
    with pytest.raises(ValueError, match='labels 0/1'):
        loss(torch.zeros(1, 1, 4, 4), torch.full((1, 4, 4), 2))
    with pytest.raises(ValueError, match='out_channels=1'):
        loss(torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
