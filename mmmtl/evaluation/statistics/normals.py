# Copyright (c) mmmtl contributors. All rights reserved.
"""Surface normals: angular error statistics in degrees.

Convention of the standard multi-task toolbox (MTI-Net / ATRC / InvPT
``eval_normals``): both the prediction and the ground truth are normalised to
unit length, the per-pixel error is the angle between them in degrees, and
the statistics are pooled over **all valid pixels of the dataset**:

* valid pixels (``validity``): ``'any'`` (default; MTI-Net / ATRC / InvPT)
  counts a pixel whose ground truth has any non-zero component (not the
  zero vector, the invalid value of the task table); ``'sum'`` (MTAN,
  LibMTL, EMA-Net: the NYUv2-13 protocol CTAL reports) counts a pixel whose
  components do not sum to zero, ``sum(g) != 0``, which also drops the rare
  valid normals whose components cancel. Either way the ground truth must be
  finite;
* ``angle = degrees(acos(clamp(dot(p / |p|, g / |g|), -1, 1)))``. It is
  evaluated as the mathematically identical ``2 * atan2(|p - g|, |p + g|)``
  (InvPT / ATRC) in float64, which stays accurate for small angles where the
  ``acos`` of a float32 dot product is quantised. A zero predicted vector is
  left at zero by the normalisation and so has an error of 90 degrees;
* ``mean`` and ``rmse = sqrt(mean(angle^2))`` from running sums; ``11.25``,
  ``22.5`` and ``30`` are the percentages of pixels with ``angle < t``
  (strict, as the toolbox);
* ``median`` comes from a fixed histogram of the angles (constant memory,
  exact under distributed summation): ``hist_bins`` equal bins over
  [0, 180] degrees, by default 18000 bins of 0.01 degree. The reported
  median is the mean of the centres of the bins holding the two middle
  order statistics (``np.median``'s definition applied to bin centres), so
  it is within half a bin (0.005 degree by default) of the exact median.
"""
import math
from typing import Dict

import torch
from torch import Tensor

from mmmtl.structures.tasks import CONTINUOUS
from .base import TaskStatistic, register_task_statistic, safe_div, zeros
from .exact_sum import exact_zeros

ANGLE_THRESHOLDS = (11.25, 22.5, 30.0)
#: Ground-truth validity rules (see the module docstring).
NORMALS_VALIDITY = ('any', 'sum')
_THRESHOLD_NAMES = ('11.25', '22.5', '30')
DEFAULT_HIST_BINS = 18000


def valid_normals(gt: Tensor, validity: str = 'any') -> Tensor:
    """Mask of the pixels whose ground-truth normal counts.

    Args:
        gt (Tensor): (3, H, W) ground-truth normals.
        validity (str): ``'any'`` (a non-zero component) or ``'sum'``
            (components not summing to zero, as MTAN / LibMTL / EMA-Net).

    Returns:
        Tensor: (H, W) bool mask, finite ground truth only.
    """
    if validity == 'any':
        valid = (gt != 0).any(dim=0)
    elif validity == 'sum':
        valid = gt.sum(dim=0) != 0
    else:
        raise ValueError(f'normals validity must be one of '
                         f'{NORMALS_VALIDITY}, got {validity!r}')
    return valid & torch.isfinite(gt).all(dim=0)


def normals_angles(pred: Tensor, gt: Tensor,
                   validity: str = 'any') -> Tensor:
    """Angular errors in degrees at the valid pixels.

    Args:
        pred (Tensor): (3, H, W) predicted normals (any length).
        gt (Tensor): (3, H, W) ground-truth normals, the zero vector for
            invalid pixels.
        validity (str): Which pixels count, see :func:`valid_normals`.

    Returns:
        Tensor: (N_valid,) float64 angles in [0, 180].
    """
    gt = gt.to(pred.device)
    valid = valid_normals(gt, validity)
    p = pred[:, valid].double()
    g = gt[:, valid].double()
    p = p / p.norm(dim=0, keepdim=True).clamp(min=1e-300)
    g = g / g.norm(dim=0, keepdim=True)
    angle = 2.0 * torch.atan2((p - g).norm(dim=0), (p + g).norm(dim=0))
    return torch.rad2deg(angle)


def angle_histogram(angles: Tensor, bins: int) -> Tensor:
    """Counts of ``angles`` in ``bins`` equal bins over [0, 180] degrees.

    Args:
        angles (Tensor): (N,) angles in degrees.
        bins (int): Number of bins; bin ``i`` is
            ``[i * w, (i + 1) * w)`` with ``w = 180 / bins`` (180 falls in
            the last bin).

    Returns:
        Tensor: (bins,) int64 counts.
    """
    idx = torch.floor(angles * (bins / 180.0)).long().clamp(0, bins - 1)
    return torch.bincount(idx, minlength=bins)


def histogram_median(hist: Tensor) -> float:
    """Median of the values binned in ``hist`` over [0, 180] degrees.

    Args:
        hist (Tensor): (bins,) counts.

    Returns:
        float: Mean of the centres of the bins of the order statistics
        ``floor((n - 1) / 2)`` and ``ceil((n - 1) / 2)``; ``nan`` if empty.
    """
    n = int(hist.sum())
    if n == 0:
        return float('nan')
    width = 180.0 / hist.numel()
    cum = torch.cumsum(hist, 0)
    ranks = torch.tensor([(n - 1) // 2, n // 2], dtype=cum.dtype)
    idx = torch.searchsorted(cum, ranks, right=True)
    return float(((idx.double() + 0.5) * width).mean())


@register_task_statistic
class NormalsStatistic(TaskStatistic):
    """Pixel-pooled angular error sums and histogram.

    State: fixed-point sums ``sum``, ``sum_sq``; int64 ``n_valid``, ``within``
    (3,) (counts below 11.25 / 22.5 / 30 degrees) and ``hist`` (bins,).

    Args:
        task (str): A normals-like continuous task (3 channels).
        hist_bins (int): Bins of the median histogram over [0, 180].
        validity (str): ``'any'`` or ``'sum'``, see :func:`valid_normals`.
    """

    metric_names = ('mean', 'median', 'rmse', '11.25', '22.5', '30')
    kinds = (CONTINUOUS, )

    def __init__(self, task: str, hist_bins: int = DEFAULT_HIST_BINS,
                 validity: str = 'any') -> None:
        if not isinstance(hist_bins, int) or hist_bins < 1:
            raise ValueError(f'normals hist_bins must be a positive int, got '
                             f'{hist_bins!r}')
        if validity not in NORMALS_VALIDITY:
            raise ValueError(f'normals validity must be one of '
                             f'{NORMALS_VALIDITY}, got {validity!r}')
        self.hist_bins = hist_bins
        self.validity = validity
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        return dict(
            sum=exact_zeros(),
            sum_sq=exact_zeros(),
            n_valid=zeros(),
            within=zeros(len(ANGLE_THRESHOLDS), dtype=torch.int64),
            hist=zeros(self.hist_bins, dtype=torch.int64))

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one (3, H, W) normals map pair."""
        angles = normals_angles(pred, gt, self.validity)
        thresholds = torch.tensor(ANGLE_THRESHOLDS, dtype=angles.dtype,
                                  device=angles.device)
        self._add_exact('sum', angles.sum())
        self._add_exact('sum_sq', (angles * angles).sum())
        self._add('n_valid', torch.tensor(angles.numel()))
        self._add('within', (angles[None] < thresholds[:, None]).sum(1))
        self._add('hist', angle_histogram(angles, self.hist_bins))

    def compute(self) -> Dict[str, float]:
        n = int(self.state['n_valid'])
        out = dict(
            mean=safe_div(float(self.exact('sum')), n),
            median=histogram_median(self.state['hist']),
            rmse=math.sqrt(safe_div(float(self.exact('sum_sq')), n)))
        for name, count in zip(_THRESHOLD_NAMES, self.state['within']):
            out[name] = safe_div(float(count) * 100.0, n)
        return out
