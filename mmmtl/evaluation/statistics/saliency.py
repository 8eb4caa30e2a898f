# Copyright (c) mmmtl contributors. All rights reserved.
"""Saliency: maximum F-measure over thresholds and IoU.

Three conventions are in use in the multi-task literature; each is a preset
transcribed from the public evaluation code:

``'atrc'`` (ATRC ``MaxF``; the numbers reported by ATRC)
    ``beta^2 = 0.3``; 19 thresholds ``0.05, 0.10, ..., 0.95`` (the toolbox's
    ``arange(0.05, 1, 0.05)``); a pixel is predicted salient when
    ``p >= t``; true positives, predicted positives and actual positives are
    **pooled over all valid pixels of the dataset** per threshold, precision
    and recall come from the pooled counts and
    ``F = (1 + b2) P R / (b2 P + R)`` (0 where undefined), ``maxF`` is the
    maximum over thresholds.
``'invpt'`` (InvPT / TaskPrompter ``SaliencyMeter`` as their test loop feeds
it; InvPT, TaskPrompter, MLoRE, TaskDiffusion, MTMamba report with it)
    The same meter as ``'atrc'`` (``beta^2 = 0.3``, ``>=``, pooled), but the
    test loop hands it the softmax probability ``p`` of the salient class
    multiplied by 255, and the meter divides by 255 and, treating the value
    as a logit, applies a **second sigmoid**: the thresholds act on
    ``sigmoid(p)``, which lies in ``[0.5, 0.731]``. Thresholds up to 0.5
    therefore mark every pixel salient, 0.55 / 0.6 / 0.65 / 0.7 cut ``p`` at
    ``logit(t)`` = 0.201 / 0.405 / 0.619 / 0.847, and 0.75 and above mark no
    pixel (F = 0). This is a quirk of that code, not a different definition
    of max-F: it searches four effective thresholds instead of 19, so it
    usually reads lower than ``'atrc'`` on the same maps. Use it only to
    compare with those papers' tables; otherwise report ``'atrc'``, the
    intended definition. The arithmetic is
    done as the reference does it, in float32 (``p * 255 / 255``, sigmoid,
    float32 thresholds), so the counts agree bit for bit on float32 inputs.
``'mtinet'`` (the older MTI-Net / ASTMT toolbox ``SaliencyMeter``)
    ``beta^2 = 1``; 15 thresholds ``linspace(0.2, 0.9, 15)``; salient when
    ``p > t``; precision ``TP / (TP + FP + 1e-12)``, recall
    ``TP / (TP + FN + 1e-12)`` and the Jaccard index (1 when both the
    prediction and the ground truth are empty) are computed **per image** and
    averaged over images; ``F = (1 + b2) mP mR / (b2 mP + mR + 1e-12)`` from
    the averaged precision and recall, ``maxF`` its maximum over thresholds
    and ``mIoU`` the maximum over thresholds of the mean Jaccard index.

For ``'atrc'`` and ``'invpt'`` (which report no IoU) ``mIoU`` is the maximum
over thresholds of the pooled foreground IoU ``TP / (TP + FP + FN)`` (1 when
the dataset has neither salient ground truth nor salient prediction), for
``'invpt'`` on the same double-sigmoid scores. All states are sums over
images, so every preset is exact under distributed evaluation. Pixels whose
ground truth is the ignore value (255) are excluded; ground truth ``>= 1`` is
salient. Predictions are probabilities in [0, 1]; unlike the toolboxes
(which read 8-bit PNGs back) they are not quantised to 1/255. Metrics are in
percent.
"""
from numbers import Integral
from typing import Dict, Optional, Sequence, Union

import torch
from torch import Tensor

from mmmtl.structures.tasks import BINARY
from .base import TaskStatistic, register_task_statistic, zeros
from .exact_sum import exact_zeros

#: Preset name -> (beta^2, thresholds, comparison, averaging, score).
#: ``score`` maps the probabilities before thresholding (``None``: as is).
SALIENCY_PRESETS: Dict[str, dict] = {
    'atrc': dict(beta_sq=0.3, thresholds=19, comparison='>=',
                 averaging='pooled', score=None),
    # InvPT's meter: torch.arange(0.05, 1, 0.05) in float32, applied to
    # sigmoid(p * 255 / 255) (see the module docstring).
    'invpt': dict(
        beta_sq=0.3,
        thresholds=tuple(
            torch.arange(0.05, 1, 0.05, dtype=torch.float32).double()
            .tolist()),
        comparison='>=',
        averaging='pooled',
        score='double_sigmoid'),
    'mtinet': dict(
        beta_sq=1.0,
        thresholds=tuple(
            torch.linspace(0.2, 0.9, 15, dtype=torch.float64).tolist()),
        comparison='>',
        averaging='per_image',
        score=None),
}
_EPS = 1e-12


def make_thresholds(spec: Union[int, Sequence[float]]) -> Tensor:
    """Saliency thresholds as a sorted float64 tensor.

    Args:
        spec (int | Sequence[float]): ``n`` gives ``n`` equally spaced
            thresholds strictly inside (0, 1), ``k / (n + 1)`` for
            ``k = 1..n`` (``19`` gives 0.05, ..., 0.95); a sequence gives the
            thresholds explicitly (each in [0, 1]).

    Returns:
        Tensor: (T,) float64 thresholds, increasing.
    """
    if isinstance(spec, Integral) and not isinstance(spec, bool):
        if spec < 1:
            raise ValueError(f'SaliencyStatistic thresholds must be >= 1, '
                             f'got {spec}')
        return torch.arange(1, spec + 1, dtype=torch.float64) / (spec + 1)
    try:
        values = torch.as_tensor(list(spec), dtype=torch.float64)
    except (TypeError, ValueError):
        raise TypeError(f'SaliencyStatistic thresholds must be an int or a '
                        f'sequence of floats in [0, 1], got {spec!r}') \
            from None
    if values.numel() == 0 or values.dim() != 1 or (
            values < 0).any() or (values > 1).any():
        raise ValueError(f'SaliencyStatistic thresholds must be a non-empty '
                         f'sequence of floats in [0, 1], got {spec!r}')
    return torch.sort(values).values


def double_sigmoid_score(prob: Tensor) -> Tensor:
    """The score InvPT's saliency meter thresholds: ``sigmoid(p*255/255)``.

    Args:
        prob (Tensor): (N,) probabilities of the salient class.

    Returns:
        Tensor: (N,) float32 scores in [0.5, 0.7311], computed in float32 as
        the reference does (multiply by 255, divide by 255, sigmoid).
    """
    return torch.sigmoid(prob.float() * 255.0 / 255.0)


def threshold_counts(prob: Tensor, positive: Tensor, thresholds: Tensor,
                     comparison: str) -> Dict[str, Tensor]:
    """Per-threshold predicted positives and true positives of one image.

    Args:
        prob (Tensor): (N,) probabilities of the valid pixels.
        positive (Tensor): (N,) bool, salient ground truth.
        thresholds (Tensor): (T,) increasing thresholds.
        comparison (str): ``'>='`` or ``'>'``.

    Returns:
        dict[str, Tensor]: int64 (T,) ``pred_pos`` and ``tp``.
    """
    thresholds = thresholds.to(prob.device)
    # Number of thresholds passed by each pixel: pixel is positive at
    # threshold k iff k < passed.
    passed = torch.searchsorted(thresholds, prob.double(),
                                right=comparison == '>=')
    num = thresholds.numel()

    def at_least(idx: Tensor) -> Tensor:
        hist = torch.bincount(idx, minlength=num + 1)
        # count of pixels with passed > k, for k = 0..T-1
        return hist.flip(0).cumsum(0).flip(0)[1:]

    return dict(pred_pos=at_least(passed), tp=at_least(passed[positive]))


@register_task_statistic
class SaliencyStatistic(TaskStatistic):
    """Per-threshold counts for max-F and IoU (see the module docstring).

    State: int64 ``tp``, ``pred_pos`` (T,), ``gt_pos``, ``n_images``;
    fixed-point ``sum_prec``, ``sum_rec``, ``sum_jac`` (T,) (per-image
    sums).

    Args:
        task (str): A binary task.
        preset (str): ``'atrc'``, ``'invpt'`` or ``'mtinet'``.
        beta_sq (float, optional): Overrides the preset's ``beta^2``.
        thresholds (int | Sequence[float], optional): Overrides the preset's
            thresholds (see :func:`make_thresholds`).
    """

    metric_names = ('maxF', 'mIoU')
    kinds = (BINARY, )

    def __init__(self, task: str, preset: str = 'atrc',
                 beta_sq: Optional[float] = None,
                 thresholds: Union[int, Sequence[float], None] = None) -> None:
        if preset not in SALIENCY_PRESETS:
            raise ValueError(f'SaliencyStatistic preset must be one of '
                             f'{sorted(SALIENCY_PRESETS)}, got {preset!r}')
        cfg = SALIENCY_PRESETS[preset]
        self.preset = preset
        self.beta_sq = float(cfg['beta_sq'] if beta_sq is None else beta_sq)
        if not self.beta_sq > 0:
            raise ValueError(f'SaliencyStatistic beta_sq must be > 0, got '
                             f'{beta_sq}')
        self.thresholds = make_thresholds(
            cfg['thresholds'] if thresholds is None else thresholds)
        self.comparison = cfg['comparison']
        self.averaging = cfg['averaging']
        self.score = cfg['score']
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        num = self.thresholds.numel()
        return dict(
            tp=zeros(num, dtype=torch.int64),
            pred_pos=zeros(num, dtype=torch.int64),
            gt_pos=zeros(dtype=torch.int64),
            n_images=zeros(dtype=torch.int64),
            sum_prec=exact_zeros(num),
            sum_rec=exact_zeros(num),
            sum_jac=exact_zeros(num))

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one (1, H, W) probability map and its label map."""
        gt = gt.to(pred.device)
        valid = gt != self.spec.ignore_value
        prob = pred[valid]
        if self.score == 'double_sigmoid':
            prob = double_sigmoid_score(prob)
        positive = gt[valid] >= 1
        counts = threshold_counts(prob, positive, self.thresholds,
                                  self.comparison)
        tp = counts['tp']
        pred_pos = counts['pred_pos']
        gt_pos = positive.sum()
        self._add('tp', tp)
        self._add('pred_pos', pred_pos)
        self._add('gt_pos', gt_pos)
        self._add('n_images', torch.tensor(1))
        # Per-image precision / recall / Jaccard of the older toolbox.
        tp_d = tp.double()
        fp = pred_pos.double() - tp_d
        fn = gt_pos.double() - tp_d
        union = tp_d + fp + fn
        jac = torch.where(union > 0, tp_d / union.clamp(min=1),
                          torch.ones_like(tp_d))
        self._add_exact('sum_prec', tp_d / (tp_d + fp + _EPS))
        self._add_exact('sum_rec', tp_d / (tp_d + fn + _EPS))
        self._add_exact('sum_jac', jac)

    def compute(self) -> Dict[str, float]:
        if self.averaging == 'pooled':
            return self._pooled()
        return self._per_image()

    def _f_measure(self, precision: Tensor, recall: Tensor,
                   eps: float = 0.0) -> Tensor:
        b2 = self.beta_sq
        f = (1 + b2) * precision * recall / (b2 * precision + recall + eps)
        return torch.nan_to_num(f, nan=0.0)

    def _pooled(self) -> Dict[str, float]:
        tp = self.state['tp'].double()
        pred_pos = self.state['pred_pos'].double()
        gt_pos = self.state['gt_pos'].double()
        if int(self.state['n_images']) == 0:
            return dict(maxF=float('nan'), mIoU=float('nan'))
        precision = tp / pred_pos
        recall = tp / gt_pos
        f = self._f_measure(precision, recall)
        union = pred_pos + gt_pos - tp
        iou = torch.where(union > 0, tp / union.clamp(min=1),
                          torch.ones_like(tp))
        return dict(maxF=float(f.max()) * 100.0, mIoU=float(iou.max()) * 100.0)

    def _per_image(self) -> Dict[str, float]:
        n = int(self.state['n_images'])
        if n == 0:
            return dict(maxF=float('nan'), mIoU=float('nan'))
        m_prec = self.exact('sum_prec') / n
        m_rec = self.exact('sum_rec') / n
        f = self._f_measure(m_prec, m_rec, eps=_EPS)
        m_jac = self.exact('sum_jac') / n
        return dict(maxF=float(f.max()) * 100.0,
                    mIoU=float(m_jac.max()) * 100.0)
