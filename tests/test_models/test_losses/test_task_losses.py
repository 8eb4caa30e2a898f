"""Per-task losses against hand-computed values."""
import math

import pytest
import torch
from mmseg.models.losses import CrossEntropyLoss

from mmmtl.models.losses import BalancedBCELoss, DepthL1Loss, NormalsLoss


def test_depth_l1_hand_value():
    pred = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    gt = torch.tensor([[[[2.0, 0.0], [1.0, float('nan')]]]])
    valid = torch.tensor([[[[True, False], [True, False]]]])
    # |1-2| + |3-1| over 2 valid pixels
    assert DepthL1Loss()(pred, gt, valid).item() == pytest.approx(1.5)


def test_normals_l1_and_cosine_hand_values():
    pred = torch.tensor([3.0, 0.0, 4.0]).view(1, 3, 1, 1).repeat(1, 1, 1, 2)
    gt = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]).T.reshape(
        1, 3, 1, 2)
    valid = torch.tensor([[[[True, False]]]])
    # unit pred (0.6, 0, 0.8): |0.6| + 0 + |0.8 - 1| = 0.8
    assert NormalsLoss()(pred, gt, valid).item() == pytest.approx(0.8)
    assert NormalsLoss(mode='cosine')(pred, gt, valid).item() == \
        pytest.approx(0.2)
    with pytest.raises(ValueError, match="'l1' or 'cosine'"):
        NormalsLoss(mode='l2')


def bce(logit, y):
    p = 1 / (1 + math.exp(-logit))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_balanced_bce_hand_values():
    logits = torch.tensor([[[[2.0, -1.0, 0.5, 3.0]]]])
    gt = torch.tensor([[[[1, 0, 0, 255]]]])
    valid = gt != 255
    pos, negs = bce(2.0, 1), bce(-1.0, 0) + bce(0.5, 0)
    fixed = BalancedBCELoss(pos_weight=0.95)(logits, gt, valid)
    assert fixed.item() == pytest.approx((0.95 * pos + 0.05 * negs) / 3)
    auto = BalancedBCELoss(pos_weight='auto')(logits, gt, valid)
    w = 2 / 3  # fraction of negatives
    assert auto.item() == pytest.approx((w * pos + (1 - w) * negs) / 3)
    plain = BalancedBCELoss(pos_weight=None)(logits, gt, valid)
    assert plain.item() == pytest.approx((pos + negs) / 3)


def test_cross_entropy_ignores_255():
    logits = torch.tensor([[[[2.0, 0.0]], [[0.0, 5.0]]]])  # (1, 2, 1, 2)
    gt = torch.tensor([[[0, 255]]])
    loss = CrossEntropyLoss(avg_non_ignore=True)(logits, gt,
                                                 ignore_index=255)
    expected = -math.log(math.exp(2) / (math.exp(2) + 1))
    assert loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize('loss, channels, gt_value', [
    (DepthL1Loss(), 1, 0.0),
    (NormalsLoss(), 3, 0.0),
    (NormalsLoss(mode='cosine'), 3, 0.0),
    (BalancedBCELoss(pos_weight=0.95), 1, 255),
    (BalancedBCELoss(pos_weight='auto'), 1, 255),
    (BalancedBCELoss(pos_weight=None), 1, 255),
])
def test_all_invalid_gives_zero_finite_differentiable(loss, channels,
                                                      gt_value):
    pred = torch.randn(2, channels, 3, 4, requires_grad=True)
    gt = torch.full((2, channels, 3, 4), float(gt_value))
    valid = torch.zeros(2, 1, 3, 4, dtype=torch.bool)
    value = loss(pred, gt, valid)
    assert value.item() == 0.0
    value.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() == 0


def test_cross_entropy_all_ignored_is_zero():
    pred = torch.randn(1, 3, 2, 2, requires_grad=True)
    gt = torch.full((1, 2, 2), 255)
    value = CrossEntropyLoss(avg_non_ignore=True)(pred, gt, ignore_index=255)
    assert torch.isfinite(value) and value.item() == 0.0
    value.backward()
    assert torch.isfinite(pred.grad).all()
