# Copyright (c) mmmtl contributors. All rights reserved.
"""Uncertainty weighting (Kendall et al., CVPR 2018): checks and logging."""
import math
from typing import Dict, List, Optional, Sequence

from mmseg.registry import HOOKS

from .base_loss_weighting_hook import BaseLossWeightingHook


@HOOKS.register_module()
class UncertaintyWeightingHook(BaseLossWeightingHook):
    """Homoscedastic-uncertainty weighting, reported like the other schemes.

    The weights of this scheme are *learnt*: a log-variance ``s_t`` per task
    lives in the model (``MultiTaskEncoderDecoder(uncertainty_weighting=
    True)`` creates ``model.log_variances``, optimised with the network) and
    the model optimises ``exp(-s_t) * w_t * L_t + s_t``. A hook cannot add
    parameters after the optimizer is built, so this one

    * fails early, with a clear message, if the model has no log-variances;
    * keeps ``model.task_weights`` (the static factors ``w_t``) unchanged;
    * logs the effective weights ``w_t * exp(-s_t)`` in a log line at the
      end of every window (with the window means of the unweighted losses
      as ``task_loss/<task>``); the segmentor logs the same effective
      weights every iteration as ``weight.<task>``, so an
      uncertainty-weighted run plots like an LPS or DWA run.

    The log-variances are model parameters, hence already in checkpoints.

    Args:
        by_epoch (bool): Epoch windows; ``False`` for ``interval``
            iterations.
        interval (int): Epochs or iterations per window.
        tasks (Sequence[str], optional): Default: the model's tasks.
    """

    def __init__(self,
                 by_epoch: bool = True,
                 interval: int = 1,
                 tasks: Optional[Sequence[str]] = None):
        super().__init__(by_epoch=by_epoch, interval=interval, tasks=tasks)
        self._static: Optional[Dict[str, float]] = None

    def before_train(self, runner) -> None:
        """Check for log-variances, remember the static task weights."""
        model = self._model(runner)
        if getattr(model, 'log_variances', None) is None:
            raise ValueError(
                'UncertaintyWeightingHook needs learnable log-variances in '
                'the model: set `model.uncertainty_weighting=True` in the '
                'config (MultiTaskEncoderDecoder)')
        self._resolve_tasks(runner)
        self._static = {t: float(model.task_weights[t]) for t in self.tasks}
        super().before_train(runner)

    def compute_weights(self, history: List[List[float]]) -> List[float]:
        """The static task weights, unchanged."""
        return [self._static[t] for t in self.tasks]

    def logged_weights(self, runner) -> Dict[str, float]:
        """Effective weights ``w_t * exp(-s_t)``."""
        log_vars = self._model(runner).log_variances
        return {
            t: self._static[t] * math.exp(-float(log_vars[t].detach()))
            for t in self.tasks
        }
