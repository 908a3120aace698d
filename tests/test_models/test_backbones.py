import pytest
import torch

from mmecho.models.backbones import ResNetPanel, UPANetV2
from mmecho.models.layers import PanelAttention


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_upanet80_parameter_count_matches_reference():
    # reference_methods.md 3.4: UPANet80 backbone 33.76 M parameters
    assert n_params(UPANetV2(width=80)) / 1e6 == pytest.approx(33.76, abs=0.01)


@pytest.mark.parametrize('hw', [(64, 64), (96, 160), (160, 64)])
def test_upanet_any_multiple_of_32(hw):
    model = UPANetV2(width=16, out_indices=(0, 1, 2, 3))
    model.eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, *hw))
    h, w = hw
    expected = [(2, 32 * 2**i, h // 2**(i + 2), w // 2**(i + 2))
                for i in range(4)]
    assert [tuple(o.shape) for o in outs] == expected
    assert model.out_channels == [32, 64, 128, 256]
    with pytest.raises(ValueError, match='multiples of 32'):
        model(torch.randn(1, 3, 64, 80))


def test_upanet_trains_on_non_square_input():
    model = UPANetV2(width=16)
    outs = model(torch.randn(2, 3, 64, 96))
    sum(o.mean() for o in outs).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_panel_attention_is_single_head_unscaled_softmax():
    torch.manual_seed(0)
    att = PanelAttention(8)
    u = torch.randn(2, 32, 5, 7)
    x, q, k, v = u[:, 0::4], u[:, 1::4], u[:, 2::4], u[:, 3::4]
    q = att.q(q).flatten(2)  # (N, C, L)
    k = att.k(k).flatten(2)
    v = att.v(v).flatten(2)
    a = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (N, L, L), keys last
    y = (a @ v.transpose(1, 2)).transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(att(u), x + y, rtol=1e-4, atol=1e-5)


def test_resnet50_panel_shapes_and_size():
    model = ResNetPanel(depth=50, out_indices=(1, 2, 3))
    model.eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(1, 512, 8, 12), (1, 1024, 4, 6),
                                              (1, 2048, 2, 3)]
    # reference: 74.55 M for the whole MEIS model, ~6.86 M of it the head
    assert n_params(model) / 1e6 == pytest.approx(67.69, abs=0.05)
