"""Depth statistic against hand-computed values."""
import math

import pytest
import torch

from mmmtl.evaluation.statistics import DepthStatistic


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


def test_depth_metrics_hand_computed():
    gt = t([[1.0, 2.0, 0.0], [4.0, 0.5, 2.0]])
    pred = t([[2.0, 2.0, 5.0], [2.0, 1.0, 3.0]])  # 5.0 is on an invalid px
    stat = DepthStatistic('depth')
    stat.update(pred, gt)
    out = stat.compute()
    ln2, ln15 = math.log(2), math.log(1.5)
    assert out['rmse'] == pytest.approx(math.sqrt(6.25 / 5))
    assert out['log_rmse'] == pytest.approx(
        math.sqrt((3 * ln2**2 + ln15**2) / 5))
    assert out['abs_rel'] == pytest.approx(3.0 / 5)
    assert out['abs_err'] == pytest.approx(4.5 / 5)
    # ratios 2, 1, 2, 2, 1.5
    assert out['delta1'] == pytest.approx(20.0)
    assert out['delta2'] == pytest.approx(40.0)
    assert out['delta3'] == pytest.approx(40.0)


def test_depth_pooled_over_pixels_not_images():
    stat = DepthStatistic('depth')
    stat.update(t([[1.0]]), t([[2.0]]))  # 1 pixel, error 1
    stat.update(t([[3.0, 3.0, 3.0]]), t([[3.0, 3.0, 3.0]]))  # 3 px, error 0
    assert stat.compute()['rmse'] == pytest.approx(math.sqrt(1 / 4))


def test_depth_clamps_non_positive_prediction():
    stat = DepthStatistic('depth')
    stat.update(t([[-1.0]]), t([[2.0]]))
    out = stat.compute()
    assert out['rmse'] == pytest.approx(2.0)
    assert out['log_rmse'] == pytest.approx(math.log(2.0 / 1e-9))
    assert out['delta3'] == 0.0


def test_depth_without_valid_pixels_is_nan():
    stat = DepthStatistic('depth')
    stat.update(t([[1.0]]), t([[0.0]]))
    assert math.isnan(stat.compute()['rmse'])
