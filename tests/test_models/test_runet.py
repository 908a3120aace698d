"""RU-Net, SHG and U-Net 1: the differentiable ROI, cascaded outputs and the
CAMUS baseline's size."""
import pytest
import torch
from mmengine import Config

from mmecho.models.layers import DifferentiableROI
from mmecho.registry import MODELS
from mmecho.utils import register_all_modules
from ..conftest import ROOT
from .seg_samples import random_seg_samples


def build(name, **model_overrides):
    register_all_modules()
    cfg = Config.fromfile(f'{ROOT}/configs/runet/{name}.py')
    cfg.model.update(model_overrides)
    return MODELS.build(cfg.model)


def test_roi_is_a_dilation_by_the_rate():
    prob = torch.zeros(1, 1, 64, 64)
    prob[0, 0, 24:40, 24:40] = 0.9  # a 16 px square above the 0.5 shift
    roi = DifferentiableROI(dilations=(5, ), shift=0.5)(prob)[0, 0]
    assert roi[32, 32] > 0.99  # inside
    assert roi[32, 24 - 5] > 0.99 and roi[32, 39 + 5] > 0.99  # dil px out
    # beyond: Eq. 1 with slope 100 and shift 0.01 at 0 -> sigmoid(-1)
    outside = torch.sigmoid(torch.tensor(-1.0))
    assert torch.allclose(roi[32, 24 - 6], outside, atol=1e-4)
    assert torch.allclose(roi[32, 39 + 6], outside, atol=1e-4)
    assert torch.allclose(roi[5, 5], outside, atol=1e-4)
    # inception: the union of the rates
    roi3 = DifferentiableROI(dilations=(2, 5, 9))(prob)[0, 0]
    assert roi3[32, 24 - 9] > 0.99
    assert torch.allclose(roi3[32, 24 - 10], outside, atol=1e-4)


def test_second_loss_reaches_the_first_unet_through_the_roi():
    torch.manual_seed(0)
    model = build('runet_camus', loss_weights=(0.0, 1.0))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():  # put the first threshold where the probs are
        fg = 1 - model.stages[0].decode_head.forward(
            model.stages[0].extract_feat(x)).softmax(1)[:, 0]
    model.roi.shift = float(fg.median())
    losses = model.loss(x, random_seg_samples(2, 64))
    assert set(k for k in losses
               if 'loss' in k) == {'o1.loss_dice', 'o2.loss_dice'}
    losses['o2.loss_dice'].backward()
    first = [p.grad for p in model.stages[0].parameters()]
    assert all(g is not None for g in first)
    assert sum(float(g.abs().sum()) for g in first) > 0
    # and only through the mask: with the ROI cut off, no gradient arrives
    model.zero_grad()
    model.roi_mask = lambda logits: torch.ones_like(logits[:, :1])
    model.loss(x, random_seg_samples(2, 64))['o2.loss_dice'].backward()
    assert all(
        p.grad is None or float(p.grad.abs().sum()) == 0
        for p in model.stages[0].parameters())


@pytest.mark.parametrize('output', [1, 2])
def test_runet_predicts_either_output(output):
    model = build('runet_camus', test_cfg=dict(mode='whole', output=output))
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        outs = model.forward_stages(x)
        pred = model.predict(x, random_seg_samples(1,
                                                   64))[0].pred_sem_seg.data[0]
    assert torch.equal(pred, outs[output - 1][0].argmax(0))


def test_shg_and_unet1_sizes():
    shg = build('shg_camus')
    assert len(shg.stages) == 3
    assert shg.stages[1].backbone.encoder[0][0].conv.in_channels == 3 + 4
    losses = shg.loss(torch.rand(2, 3, 64, 64), random_seg_samples(2, 64))
    assert {'o1.loss_dice', 'o2.loss_dice', 'o3.loss_dice'} <= set(losses)
    n = {
        name: sum(p.numel() for p in build(name).parameters()) / 1e6
        for name in ('unet1_camus', 'runet_camus', 'shg_camus')
    }
    assert n['unet1_camus'] == pytest.approx(2.0, abs=0.1)  # paper: 2.0M
    assert n['runet_camus'] == pytest.approx(3.9, abs=0.2)  # paper: 3.9M
    assert n['shg_camus'] == pytest.approx(4.5, abs=0.4)  # paper: 4.5M
