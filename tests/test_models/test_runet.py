"""RU-Net, SHG and U-Net 1: the differentiable ROI, cascaded outputs, the
paper's defaults (no normalisation) and sizes."""
import numpy as np
import pytest
import torch
from mmengine import Config
from scipy import ndimage

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
    # a small ROI (a few seeds dilated by 2 px) so that it has a border
    model.roi = DifferentiableROI(
        dilations=(2, ), shift=float(fg.flatten().quantile(0.995)))
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


def n_params(module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def has_norm(module) -> bool:
    return any(
        isinstance(m, (torch.nn.modules.batchnorm._NormBase,
                       torch.nn.GroupNorm, torch.nn.LayerNorm))
        for m in module.modules())


PAPER_CONFIGS = ('unet1_camus', 'shg_camus', 'runet_camus',
                 'runet_cascade2_camus', 'runet_lighter-unet_camus',
                 'runet_dil30-shift0.7_camus', 'runet_inception_camus',
                 'runet_o2-weight2_camus')


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_defaults_have_no_normalisation(name):
    # U-Net 1 (CAMUS Table II: norm "none"), SHG (3 light U-Nets 1) and
    # RU-Net (built from U-Net 1) have no normalisation layer
    assert not has_norm(build(name))


@pytest.mark.parametrize('name', ['unet1-bn_camus', 'shg-bn_camus',
                                  'runet-bn_camus'])
def test_bn_variants_are_separate_configs(name):
    model = build(name)
    assert has_norm(model)
    plain = build(name.replace('-bn', ''))
    # the same convolutions otherwise (BN replaces their biases)
    def convs(m):
        return [tuple(c.weight.shape) for c in m.modules()
                if isinstance(c, torch.nn.Conv2d)]

    assert convs(model) == convs(plain)


def test_sizes_are_the_papers():
    # RU-Net paper, Table II: U-Net 1 2.0M, SHG 4.5M, RU-Net 3.9M; section
    # III-C: "SHG corresponds to 3 cascaded light U-Nets 1 (1.5M)". +-5 %.
    shg = build('shg_camus')
    assert len(shg.stages) == 3
    for stage in shg.stages:
        assert n_params(stage) == pytest.approx(1.5, rel=0.05)
    assert n_params(shg) == pytest.approx(4.5, rel=0.05)
    assert n_params(build('unet1_camus')) == pytest.approx(2.0, rel=0.05)
    assert n_params(build('runet_camus')) == pytest.approx(3.9, rel=0.05)


def test_shg_stacks_image_and_softmax():
    shg = build('shg_camus')
    assert shg.stages[1].backbone.encoder[0][0].conv.in_channels == 3 + 4
    losses = shg.loss(torch.rand(2, 3, 64, 64), random_seg_samples(2, 64))
    assert {'o1.loss_dice', 'o2.loss_dice', 'o3.loss_dice'} <= set(losses)


def test_cascaded_runets_and_lighter_unet():
    unet1 = n_params(build('unet1_camus'))
    light = n_params(build('shg_camus').stages[0])
    # two cascaded RU-Nets: four U-Nets 1 joined by three ROIs
    cascade = build('runet_cascade2_camus')
    assert len(cascade.stages) == 4
    assert n_params(cascade) == pytest.approx(4 * unet1, rel=1e-6)
    x = torch.rand(2, 3, 64, 64)
    outs = cascade.forward_stages(x)
    assert [tuple(o.shape) for o in outs] == [(2, 4, 64, 64)] * 4
    losses = cascade.loss(x, random_seg_samples(2, 64))
    assert {f'o{k}.loss_dice' for k in range(1, 5)} <= set(losses)
    cascade.eval()
    with torch.no_grad():
        pred = cascade.predict(x[:1])[0].pred_sem_seg.data[0]
        assert torch.equal(pred, cascade.forward_stages(x[:1])[3][0].argmax(0))
    # RU-Net with the lighter U-Net (SHG's light U-Net 1, 1.5M) twice
    lighter = build('runet_lighter-unet_camus')
    assert len(lighter.stages) == 2
    assert n_params(lighter) == pytest.approx(2 * light, rel=1e-6)
    assert n_params(lighter) == pytest.approx(3.0, rel=0.05)
    assert [tuple(o.shape) for o in lighter.forward_stages(x)] == \
        [(2, 4, 64, 64)] * 2


def band_dilation_check(structure: np.ndarray, dil: int):
    """ROI of a binary ``structure`` (prob 0.9 inside, 0 outside)."""
    prob = torch.from_numpy(structure.astype(np.float32) * 0.9)[None, None]
    roi = DifferentiableROI(dilations=(dil, ), shift=0.5)(prob)[0, 0].numpy()
    region = roi > 0.5
    _, n_regions = ndimage.label(region)  # 4-connectivity
    dist = ndimage.distance_transform_edt(~structure)  # px to the structure
    return region, n_regions, dist


@pytest.mark.parametrize('kind', ['thin_band', 'thin_ring', 'thick_square'])
def test_roi_is_one_region_containing_the_dilated_structure(kind):
    h = w = 128
    structure = np.zeros((h, w), bool)
    if kind == 'thin_band':
        structure[60:64, 20:108] = True  # 4 px band
    elif kind == 'thin_ring':  # a myocardium-like 3 px ring
        yy, xx = np.mgrid[:h, :w]
        r = np.hypot(yy - 64, xx - 64)
        structure = (r >= 25) & (r < 28)
    else:
        structure[44:84, 44:84] = True
    region, n_regions, dist = band_dilation_check(structure, 11)
    assert n_regions == 1
    assert region[dist <= 11].all()  # contains the dilation by 11 px
    assert not region[dist > 12].any()  # and not much more


def test_atrous_kernel_splits_a_thin_band():
    # the literal 3x3 kernel with dilation rate 11: three separate copies
    structure = np.zeros((128, 128), bool)
    structure[60:64, 20:108] = True
    prob = torch.from_numpy(structure.astype(np.float32) * 0.9)[None, None]
    roi = DifferentiableROI(dilations=(11, ), kernel='atrous')(prob)[0, 0]
    assert ndimage.label(roi.numpy() > 0.5)[1] == 3


def test_roi_is_differentiable():
    # a thin band whose probability crosses the 0.5 threshold smoothly
    yy = torch.arange(64, dtype=torch.float64)[:, None].expand(64, 64)
    prob = (0.9 * torch.exp(-((yy - 32) / 2.5)**2)).clone()[None, None]
    prob.requires_grad_(True)
    roi = DifferentiableROI(dilations=(11, ))(prob)
    roi.sum().backward()
    assert torch.isfinite(prob.grad).all()
    assert float(prob.grad.abs().sum()) > 0
    # analytic = numerical gradient (gentler slope for finite differences)
    small = (0.3 + 0.4 * torch.rand(1, 1, 12, 12, dtype=torch.float64))
    small.requires_grad_(True)
    roi = DifferentiableROI(dilations=(3, ), slope=5.0, second_shift=0.5)
    assert torch.autograd.gradcheck(roi, (small, ))
