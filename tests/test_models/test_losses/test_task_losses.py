"""Per-task losses against hand-computed values."""
import math

import pytest
import torch
from mmseg.models.losses import CrossEntropyLoss

from mmmtl.models.losses import BalancedBCELoss, DepthL1Loss, NormalsLoss


def test_depth_l1_hand_value():
    pred = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    gt = torch.tensor([[[[2.0, 0.0], [1.0, 0.0]]]])
    # |1-2| + |3-1| over the 2 pixels whose depth is not 0 (ignore_index)
    assert DepthL1Loss()(pred, gt).item() == pytest.approx(1.5)
    gt[0, 0, 0, 1] = -1.0  # another invalid value
    assert DepthL1Loss()(pred, gt, ignore_index=-1.0).item() == \
        pytest.approx((1 + 2 + 4) / 3)


def test_normals_l1_and_cosine_hand_values():
    pred = torch.tensor([3.0, 0.0, 4.0]).view(1, 3, 1, 1).repeat(1, 1, 1, 2)
    gt = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]).T.reshape(
        1, 3, 1, 2)
    # the second pixel (all channels 0 = ignore_index) is invalid
    # unit pred (0.6, 0, 0.8): |0.6| + 0 + |0.8 - 1| = 0.8
    assert NormalsLoss()(pred, gt, ignore_index=0.0).item() == \
        pytest.approx(0.8)
    assert NormalsLoss(mode='cosine')(pred, gt).item() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="'l1' or 'cosine'"):
        NormalsLoss(mode='l2')


def bce(logit, y):
    p = 1 / (1 + math.exp(-logit))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_balanced_bce_hand_values():
    logits = torch.tensor([[[[2.0, -1.0, 0.5, 3.0]]]])
    gt = torch.tensor([[[[1, 0, 0, 255]]]])
    pos, negs = bce(2.0, 1), bce(-1.0, 0) + bce(0.5, 0)
    fixed = BalancedBCELoss(pos_weight=0.95)(logits, gt, ignore_index=255)
    assert fixed.item() == pytest.approx((0.95 * pos + 0.05 * negs) / 3)
    auto = BalancedBCELoss(pos_weight='auto')(logits, gt, ignore_index=255)
    w = 2 / 3  # fraction of negatives
    assert auto.item() == pytest.approx((w * pos + (1 - w) * negs) / 3)
    plain = BalancedBCELoss(pos_weight=None)(logits, gt, ignore_index=255)
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
    value = loss(pred, gt, ignore_index=gt_value)
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


def test_head_calls_every_loss_with_the_task_ignore_value():
    """One convention: ``loss(pred, target, ignore_index=ignore_value)``,
    so an MMSegmentation loss (DiceLoss) plugs into a discrete task."""
    from mmseg.registry import MODELS

    from mmmtl.structures import TASKS
    head = MODELS.build(dict(
        type='HPSHead', tasks=['semseg', 'depth', 'edge'], in_channels=4,
        in_index=0, channels=4, num_classes=dict(semseg=3),
        losses=dict(semseg=dict(type='DiceLoss'))))
    g = torch.Generator().manual_seed(0)
    gts = dict(
        semseg=torch.tensor([0, 2, 255, 1]).view(1, 1, 2, 2),
        depth=torch.tensor([0.0, 1.5, 2.0, 0.0]).view(1, 1, 2, 2),
        edge=torch.tensor([255, 1, 0, 0]).view(1, 1, 2, 2))
    for task, gt in gts.items():
        pred = torch.randn(1, head.out_channels[task], 2, 2, generator=g)
        target = gt[:, 0] if TASKS[task].is_discrete else gt.float()
        expected = head.losses[task](
            pred, target, ignore_index=TASKS[task].ignore_value)
        torch.testing.assert_close(head.task_loss(task, pred, gt), expected)
    assert head.task_loss('depth', torch.zeros(1, 1, 2, 2),
                          gts['depth']).item() == pytest.approx(1.75)
