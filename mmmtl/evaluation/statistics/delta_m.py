# Copyright (c) mmmtl contributors. All rights reserved.
"""Multi-task gain ``delta_m`` of Maninis et al. (CVPR 2019).

``delta_m = 1 / T * sum_t (-1)^{l_t} (M_mt,t - M_st,t) / M_st,t * 100``

with ``l_t = 1`` when lower is better for the task's primary metric, so a
positive ``delta_m`` means the multi-task model beats the single-task
references on average (as ``calculate_multi_task_performance`` of the
standard multi-task toolbox, which returns the fraction; here it is in
percent, as papers report it).
"""
import math
from typing import Dict, Mapping

from mmmtl.structures.tasks import get_task


def relative_gain(value: float, baseline: float,
                  higher_is_better: bool) -> float:
    """Signed relative difference to a baseline in percent.

    Args:
        value (float): Multi-task model's metric.
        baseline (float): Single-task reference of the same metric (non-zero).
        higher_is_better (bool): Direction of the metric.

    Returns:
        float: ``+-(value - baseline) / baseline * 100``, positive when the
        multi-task model is better.
    """
    if baseline == 0 or not math.isfinite(baseline):
        raise ValueError(f'a single-task baseline must be finite and '
                         f'non-zero, got {baseline!r}')
    sign = 1.0 if higher_is_better else -1.0
    return sign * (value - baseline) / baseline * 100.0


def delta_m(values: Mapping[str, float], baselines: Mapping[str, float],
            higher_is_better: Mapping[str, bool]) -> float:
    """Mean signed relative gain over tasks, in percent.

    Args:
        values (Mapping[str, float]): Task -> multi-task model's primary
            metric.
        baselines (Mapping[str, float]): Task -> single-task reference of
            the same metric; must name exactly the tasks of ``values``.
        higher_is_better (Mapping[str, bool]): Task -> direction.

    Returns:
        float: ``delta_m`` in percent.
    """
    if set(values) != set(baselines):
        raise ValueError(
            f'single-task baselines are for tasks {sorted(baselines)} but the '
            f'evaluated tasks are {sorted(values)}; give exactly one '
            f'reference per evaluated task')
    if not values:
        raise ValueError('delta_m needs at least one task')
    gains = [
        relative_gain(values[t], baselines[t], higher_is_better[t])
        for t in values
    ]
    return sum(gains) / len(gains)


def primary_directions(primary_metrics: Mapping[str, str]
                       ) -> Dict[str, bool]:
    """Task -> ``higher_is_better`` of its primary metric (task table)."""
    return {
        task: get_task(task).metric(name).higher_is_better
        for task, name in primary_metrics.items()
    }
