# Copyright (c) mmmtl contributors. All rights reserved.
"""Dynamic Weight Average (Liu et al., CVPR 2019) as a training hook."""
import math
from typing import List, Optional, Sequence

from mmseg.registry import HOOKS

from .base_loss_weighting_hook import BaseLossWeightingHook


def dwa_weights(history: Sequence[Sequence[float]],
                temperature: float = 2.0) -> List[float]:
    """DWA: ``w_k = K * softmax_k(r_k / T)`` with ``r_k = L_k^n / L_k^{n-1}``.

    Args:
        history (Sequence[Sequence[float]]): Per-window per-task mean
            losses, oldest first.
        temperature (float): ``T``.

    Returns:
        list[float]: Weights summing to the number of tasks ``K``; all ones
        before two windows exist (as in MTAN's first two epochs).
    """
    num_tasks = len(history[-1]) if history else 0
    if len(history) < 2:
        return [1.0] * num_tasks
    ratios = [cur / prev if prev > 0 else 1.0
              for cur, prev in zip(history[-1], history[-2])]
    peak = max(r / temperature for r in ratios)
    exps = [math.exp(r / temperature - peak) for r in ratios]
    total = sum(exps)
    return [num_tasks * e / total for e in exps]


@HOOKS.register_module()
class DWAHook(BaseLossWeightingHook):
    """Dynamic Weight Average: weight tasks by their recent loss ratio.

    After each window (epoch by default) the weights become
    :func:`dwa_weights` of the window means of the unweighted task losses:
    a task whose loss fell less (ratio near or above 1) gets more weight.
    Equal weights (1) until two windows have finished.

    Args:
        temperature (float): Softmax temperature ``T`` (> 0). Default: 2.
        by_epoch (bool): Epoch windows; ``False`` for ``interval``
            iterations.
        interval (int): Epochs or iterations per window.
        tasks (Sequence[str], optional): Default: the model's tasks.
    """

    def __init__(self,
                 temperature: float = 2.0,
                 by_epoch: bool = True,
                 interval: int = 1,
                 tasks: Optional[Sequence[str]] = None):
        super().__init__(by_epoch=by_epoch, interval=interval, tasks=tasks)
        if temperature <= 0:
            raise ValueError(f'DWAHook.temperature must be > 0, got '
                             f'{temperature}')
        self.temperature = float(temperature)

    def compute_weights(self, history: List[List[float]]) -> List[float]:
        """DWA weights (ones before two windows)."""
        if len(history) < 2:
            return [1.0] * len(self.tasks)
        return dwa_weights(history, self.temperature)
