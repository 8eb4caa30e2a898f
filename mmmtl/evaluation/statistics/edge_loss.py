# Copyright (c) mmmtl contributors. All rights reserved.
"""Edges: class-balanced binary cross-entropy as the validation loss.

The standard multi-task toolbox (MTI-Net / InvPT ``EdgeMeter``) reports the
class-balanced BCE with the positive weight of training (0.95 on PASCAL
Context) as the edge validation number, and the ODS F-score (a separate,
matching-based statistic) for papers. Here

``loss = sum_valid [ -w y log(p) - (1 - w) (1 - y) log(1 - p) ] / n_valid``

pooled over all valid pixels of the dataset (ground truth not 255; ``y = 1``
for ground truth ``>= 1``), which is the toolbox's per-image loss (divided by
the image's pixel count) weighted by that pixel count and averaged. The
logarithms are clamped at -100, as :func:`torch.nn.functional.
binary_cross_entropy`, so a confidently wrong pixel costs at most ``100 w``.

``mode='toolbox_logits'`` reproduces the toolbox's ``EdgeMeter`` literally:
it feeds the **probabilities** in [0, 1] to the logit form of the balanced
BCE (``BalancedCrossEntropyLoss`` expects logits), i.e. uses ``sigmoid(p)``
instead of ``p``. The numbers are then comparable with logs of the toolbox,
though the quantity is not a proper cross-entropy of the prediction; the
default ``'probability'`` is.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

from mmmtl.structures.tasks import BINARY
from .base import TaskStatistic, register_task_statistic, safe_div, zeros
from .exact_sum import exact_zeros

EDGE_LOSS_MODES = ('probability', 'toolbox_logits')


def balanced_bce_sum(prob: Tensor, positive: Tensor, pos_weight: float,
                     mode: str = 'probability') -> Tensor:
    """Sum over pixels of the class-balanced BCE.

    Args:
        prob (Tensor): (N,) predicted probabilities in [0, 1].
        positive (Tensor): (N,) bool ground truth.
        pos_weight (float): Weight ``w`` of the positive pixels; negatives get
            ``1 - w``.
        mode (str): ``'probability'`` or ``'toolbox_logits'`` (see the module
            docstring).

    Returns:
        Tensor: 0-d float64 sum.
    """
    if mode not in EDGE_LOSS_MODES:
        raise ValueError(f'edge loss mode must be one of {EDGE_LOSS_MODES}, '
                         f'got {mode!r}')
    prob = prob.double()
    target = positive.double()
    if mode == 'probability':
        bce = F.binary_cross_entropy(prob, target, reduction='none')
    else:
        bce = F.binary_cross_entropy_with_logits(prob, target,
                                                 reduction='none')
    weight = torch.where(positive, torch.full_like(prob, pos_weight),
                         torch.full_like(prob, 1.0 - pos_weight))
    return (weight * bce).sum()


@register_task_statistic
class EdgeLossStatistic(TaskStatistic):
    """Pixel-pooled balanced BCE of a binary task.

    State: fixed-point ``loss_sum``; int64 ``n_valid``.

    Args:
        task (str): A binary task (``edge``).
        pos_weight (float): Weight of positive pixels, in [0, 1] (toolbox
            edge value: 0.95).
        mode (str): ``'probability'`` (default) or ``'toolbox_logits'``.
    """

    metric_names = ('loss', )
    kinds = (BINARY, )

    def __init__(self, task: str, pos_weight: float = 0.95,
                 mode: str = 'probability') -> None:
        if not 0.0 <= float(pos_weight) <= 1.0:
            raise ValueError(f'EdgeLossStatistic pos_weight must be in [0, 1], '
                             f'got {pos_weight!r}')
        if mode not in EDGE_LOSS_MODES:
            raise ValueError(f'edge loss mode must be one of '
                             f'{EDGE_LOSS_MODES}, got {mode!r}')
        self.pos_weight = float(pos_weight)
        self.mode = mode
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        return dict(loss_sum=exact_zeros(), n_valid=zeros())

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one (1, H, W) probability map and its label map."""
        gt = gt.to(pred.device)
        valid = gt != self.spec.ignore_value
        positive = gt[valid] >= 1
        self._add_exact('loss_sum', balanced_bce_sum(pred[valid], positive,
                                                     self.pos_weight,
                                                     self.mode))
        self._add('n_valid', valid.sum())

    def compute(self) -> Dict[str, float]:
        return dict(loss=safe_div(float(self.exact('loss_sum')),
                                  int(self.state['n_valid'])))
