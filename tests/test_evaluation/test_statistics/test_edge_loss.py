"""Edge balanced-BCE statistic against hand-computed values."""
import math

import pytest
import torch

from mmmtl.evaluation.statistics import EdgeLossStatistic


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


def test_edge_loss_hand_computed():
    gt = t([[1, 0], [255, 0]], torch.long)
    pred = t([[0.8, 0.4], [0.3, 0.1]])
    stat = EdgeLossStatistic('edge', pos_weight=0.95)
    stat.update(pred, gt)
    expected = (0.95 * -math.log(0.8) + 0.05 * -math.log(0.6) +
                0.05 * -math.log(0.9)) / 3
    assert stat.compute()['loss'] == pytest.approx(expected)

    def softplus(x):
        return math.log1p(math.exp(x))

    toolbox = EdgeLossStatistic('edge', mode='toolbox_logits')
    toolbox.update(pred, gt)
    expected = (0.95 * softplus(-0.8) + 0.05 * softplus(0.4) +
                0.05 * softplus(0.1)) / 3
    assert toolbox.compute()['loss'] == pytest.approx(expected)


def test_edge_loss_log_is_clamped():
    stat = EdgeLossStatistic('edge')
    stat.update(t([[0.0, 1.0]]), t([[1, 1]], torch.long))
    assert stat.compute()['loss'] == pytest.approx(0.95 * 100 / 2)
