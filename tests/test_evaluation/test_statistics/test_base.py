"""Registry and builder of task statistics."""
import pytest
import torch

from mmmtl.evaluation.statistics import (
    TaskStatistic, build_task_statistic, register_task_statistic)


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


def test_custom_statistic_plugs_in():

    @register_task_statistic
    class EdgeCountStatistic(TaskStatistic):
        metric_names = ('odsF', )
        kinds = ('binary', )

        def _init_state(self):
            return dict(n=torch.zeros((), dtype=torch.int64))

        def update(self, pred, gt):
            self._add('n', torch.tensor(gt.numel()))

        def compute(self):
            return dict(odsF=float(self.state['n']))

    stat = build_task_statistic(dict(type='EdgeCountStatistic'), 'edge')
    stat.update(t([[0.5, 0.5]]), t([[1, 0]], torch.long))
    assert stat.compute() == dict(odsF=2.0)
    with pytest.raises(ValueError, match="task 'depth' is 'continuous'"):
        build_task_statistic(dict(type='EdgeCountStatistic'), 'depth')
    with pytest.raises(KeyError, match='unknown task statistic'):
        build_task_statistic(dict(type='Nope'), 'edge')
