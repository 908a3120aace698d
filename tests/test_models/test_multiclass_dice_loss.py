"""The multi-class Dice loss averages per-class Dice (background cannot
dominate it) and honours the ignore label."""
import torch

from mmecho.models.losses import MultiClassDiceLoss


def _logits_for(labels, num_classes=4, scale=20.0):
    return torch.nn.functional.one_hot(labels, num_classes).permute(
        0, 3, 1, 2).float() * scale


def test_perfect_and_background_only_predictions():
    target = torch.zeros(2, 32, 32, dtype=torch.long)
    target[:, 8:16, 8:16] = 1
    target[:, 20:24, 4:30] = 2
    target[:, 26:30, 10:20] = 3
    loss = MultiClassDiceLoss(eps=1e-6)
    assert loss(_logits_for(target), target) < 1e-3
    # everything background: 3 of 4 classes score Dice 0 -> loss ~0.75+
    all_bg = loss(_logits_for(torch.zeros_like(target)), target)
    assert all_bg > 0.7
    # mmseg's DiceLoss flattens the channels and lets background dominate
    from mmseg.models.losses import DiceLoss
    flat = DiceLoss(use_sigmoid=False)(_logits_for(torch.zeros_like(target)),
                                       target)
    assert flat < 0.35 < all_bg


def test_ignore_index_and_gradient_towards_small_classes():
    target = torch.zeros(1, 16, 16, dtype=torch.long)
    target[0, 4:8, 4:8] = 3
    ignored = target.clone()
    ignored[0, :, 12:] = 255
    logits = torch.zeros(1, 4, 16, 16, requires_grad=True)
    MultiClassDiceLoss()(logits, ignored).backward()
    g = logits.grad[0]
    assert (g[:, :, 12:] == 0).all()  # ignored pixels get no gradient
    assert g[3][target[0] == 3].mean() < 0  # raise class 3 where it is
    assert g[3][target[0] == 0].mean() > 0  # lower it elsewhere
    no_bg = MultiClassDiceLoss(include_background=False)  # eps 1: absent
    # classes (1, 2 here) score Dice 1 when predicted absent
    assert no_bg(_logits_for(target), target) < 1e-3
