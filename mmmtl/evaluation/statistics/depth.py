# Copyright (c) mmmtl contributors. All rights reserved.
"""Depth: RMSE, log-RMSE, abs-rel, abs error and delta accuracies.

Convention of the standard multi-task toolbox (MTI-Net / ATRC / InvPT
``DepthMeter``): every metric is pooled **pixel-wise over all valid pixels of
the dataset** (sums of per-pixel errors divided by the total number of valid
pixels, then the square root for the RMSEs), not averaged per image.

* Valid pixels: ground truth ``> 0`` and finite (0 is the invalid value of
  the task table).
* The prediction is clamped to at least ``eps = 1e-9`` before **every**
  metric, as the toolbox does (``pred[pred <= 0] = 1e-9``): a non-positive
  depth is replaced by the closest physically valid value, which keeps the
  logarithm of log-RMSE and the ratios of the deltas finite.
* ``rmse = sqrt(mean((p - g)^2))``; ``log_rmse = sqrt(mean((ln g - ln p)^2))``
  (natural log); ``abs_rel = mean(|p - g| / g)`` (the toolbox's ``abs_rel`` /
  relErr); ``abs_err = mean(|p - g|)``; ``delta_k`` = percentage of pixels with
  ``max(p / g, g / p) < 1.25^k`` (strict, as Eigen et al.).
* Depth values are in the unit of the ground truth (metres for NYUD-v2 and
  the synthetic dataset).
"""
from typing import Dict

import torch
from torch import Tensor

from mmmtl.structures.tasks import CONTINUOUS
from .base import TaskStatistic, register_task_statistic, safe_div, zeros
from .exact_sum import exact_zeros

DEPTH_EPS = 1e-9
_SUMS = ('sq_err', 'sq_log_err', 'abs_rel', 'abs_err')
_DELTAS = ('delta1', 'delta2', 'delta3')


def depth_sums(pred: Tensor, gt: Tensor, eps: float = DEPTH_EPS
               ) -> Dict[str, Tensor]:
    """Per-image sums of the depth errors over valid pixels.

    Args:
        pred (Tensor): (1, H, W) predicted depth.
        gt (Tensor): (1, H, W) ground-truth depth, 0 (or negative / non
            finite) for invalid pixels.
        eps (float): Lower clamp of the prediction.

    Returns:
        dict[str, Tensor]: 0-d float64 sums ``sq_err``, ``sq_log_err``,
        ``abs_rel``, ``abs_err``, int64 counts ``delta1..3`` and ``n_valid``.
    """
    gt = gt.to(pred.device)
    valid = (gt > 0) & torch.isfinite(gt)
    g = gt[valid].double()
    p = pred[valid].double().clamp(min=eps)
    diff = p - g
    ratio = torch.maximum(p / g, g / p)
    out = dict(
        sq_err=(diff * diff).sum(),
        sq_log_err=((g.log() - p.log())**2).sum(),
        abs_rel=(diff.abs() / g).sum(),
        abs_err=diff.abs().sum(),
        n_valid=valid.sum().long())
    for k, name in enumerate(_DELTAS, start=1):
        out[name] = (ratio < 1.25**k).sum().long()
    return out


def depth_metrics(sums: Dict[str, Tensor]) -> Dict[str, float]:
    """Depth metrics from (dataset) sums, see the module docstring.

    Args:
        sums (dict[str, Tensor]): As returned by :func:`depth_sums`, summed
            over images.

    Returns:
        dict[str, float]: ``rmse``, ``log_rmse``, ``abs_rel``, ``abs_err``
        (ground-truth units / ratios) and ``delta1..3`` (percent); ``nan``
        when there is no valid pixel.
    """
    n = int(sums['n_valid'])
    mean = {k: safe_div(float(sums[k]), n) for k in _SUMS}
    out = dict(
        rmse=mean['sq_err']**0.5,
        log_rmse=mean['sq_log_err']**0.5,
        abs_rel=mean['abs_rel'],
        abs_err=mean['abs_err'])
    for name in _DELTAS:
        out[name] = safe_div(float(sums[name]) * 100.0, n)
    return out


@register_task_statistic
class DepthStatistic(TaskStatistic):
    """Pixel-pooled depth error sums.

    State: fixed-point sums ``sq_err``, ``sq_log_err``, ``abs_rel``,
    ``abs_err`` and int64 counts ``delta1..3``, ``n_valid`` (all scalars).

    Args:
        task (str): A depth-like continuous task (one channel).
        eps (float): Lower clamp of the prediction (toolbox: 1e-9).
    """

    metric_names = ('rmse', 'log_rmse', 'abs_rel', 'abs_err', 'delta1',
                    'delta2', 'delta3')
    kinds = (CONTINUOUS, )

    def __init__(self, task: str, eps: float = DEPTH_EPS) -> None:
        if not eps > 0:
            raise ValueError(f'eps of DepthStatistic must be > 0, got {eps}')
        self.eps = float(eps)
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        state = {k: exact_zeros() for k in _SUMS}
        for k in _DELTAS + ('n_valid', ):
            state[k] = zeros()
        return state

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one (1, H, W) depth map pair."""
        for name, value in depth_sums(pred, gt, self.eps).items():
            if name in _SUMS:
                self._add_exact(name, value)
            else:
                self._add(name, value)

    def compute(self) -> Dict[str, float]:
        sums = {k: self.exact(k) if k in _SUMS else v
                for k, v in self.state.items()}
        return depth_metrics(sums)
