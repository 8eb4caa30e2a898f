"""The multi-task gain delta_m against hand-computed values."""
import pytest
import torch

from mmmtl.evaluation.statistics import delta_m, relative_gain


def test_delta_m_signs():
    values = dict(semseg=50.0, depth=0.5, normals=20.0)
    baselines = dict(semseg=40.0, depth=0.4, normals=25.0)
    hib = dict(semseg=True, depth=False, normals=False)
    # +25 (higher mIoU), -25 (higher RMSE), +20 (lower angle)
    assert delta_m(values, baselines, hib) == pytest.approx(20 / 3)
    assert relative_gain(0.3, 0.4, False) == pytest.approx(25.0)
    with pytest.raises(ValueError, match='exactly one'):
        delta_m(values, dict(semseg=1.0), hib)
    with pytest.raises(ValueError, match='non-zero'):
        relative_gain(1.0, 0.0, True)
