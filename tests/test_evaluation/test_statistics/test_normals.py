"""Surface-normal statistic against hand-computed values."""
import math

import pytest
import torch

from mmmtl.evaluation.statistics import NormalsStatistic, histogram_median


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


def _normals_pair():
    s20, c20 = math.sin(math.radians(20)), math.cos(math.radians(20))
    gt = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 2], [0, 0, 1], [1, 0, 0],
                       [0, 0, 0]], dtype=torch.float32)
    pred = torch.tensor([[0, 0, 1], [s20, 0, c20], [0, 1, 1], [1, 0, 0],
                         [-1, 0, 0], [0, 1, 0]], dtype=torch.float32)
    # angles 0, 20, 45, 90, 180 and one invalid pixel; shape (3, 2, 3)
    return pred.t().reshape(3, 2, 3), gt.t().reshape(3, 2, 3)


def test_normals_metrics_hand_computed():
    pred, gt = _normals_pair()
    stat = NormalsStatistic('normals')
    stat.update(pred, gt)
    out = stat.compute()
    assert out['mean'] == pytest.approx(335 / 5)
    assert out['rmse'] == pytest.approx(math.sqrt(
        (0 + 400 + 2025 + 8100 + 32400) / 5))
    assert out['median'] == pytest.approx(45.0, abs=0.0051)
    assert out['11.25'] == pytest.approx(20.0)
    assert out['22.5'] == pytest.approx(40.0)
    assert out['30'] == pytest.approx(40.0)


def test_normals_validity_sum_drops_cancelling_vectors():
    # Ground truth (1, -1, 0) / sqrt(2) is a valid normal whose components
    # sum to zero: 'any' counts it, 'sum' (MTAN / LibMTL / EMA-Net) does not.
    r = 1 / math.sqrt(2)
    gt = torch.tensor([[0, 0, 1], [r, -r, 0], [0, 0, 0]],
                      dtype=torch.float32).t().reshape(3, 1, 3)
    pred = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 1]],
                        dtype=torch.float32).t().reshape(3, 1, 3)
    any_stat = NormalsStatistic('normals', validity='any')
    any_stat.update(pred, gt)
    sum_stat = NormalsStatistic('normals', validity='sum')
    sum_stat.update(pred, gt)
    # angles 0 and 90 (valid under 'any'); only 0 under 'sum'
    assert any_stat.compute()['mean'] == pytest.approx(45.0)
    assert int(any_stat.state['n_valid']) == 2
    assert sum_stat.compute()['mean'] == pytest.approx(0.0)
    assert int(sum_stat.state['n_valid']) == 1
    with pytest.raises(ValueError, match='validity'):
        NormalsStatistic('normals', validity='norm')


def test_normals_median_even_count_and_resolution():
    stat = NormalsStatistic('normals', hist_bins=180)  # 1-degree bins
    s, c = math.sin(math.radians(10.3)), math.cos(math.radians(10.3))
    pred = torch.tensor([[0, 0, 1], [s, 0, c]], dtype=torch.float32)
    gt = torch.tensor([[0, 0, 1], [0, 0, 1]], dtype=torch.float32)
    stat.update(pred.t().reshape(3, 1, 2), gt.t().reshape(3, 1, 2))
    # angles 0 and 10.3: bins 0 and 10, centres 0.5 and 10.5
    assert stat.compute()['median'] == pytest.approx(5.5)
    hist = torch.zeros(180, dtype=torch.long)
    hist[[3, 7, 9]] = 1
    assert histogram_median(hist) == pytest.approx(7.5)


def test_normals_small_angle_is_accurate():
    eps = 1e-4  # radians, where float32 acos of the dot product is coarse
    pred = torch.tensor([math.sin(eps), 0.0, math.cos(eps)]).view(3, 1, 1)
    gt = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1)
    stat = NormalsStatistic('normals')
    stat.update(pred, gt)
    assert stat.compute()['mean'] == pytest.approx(math.degrees(eps),
                                                   rel=1e-3)
