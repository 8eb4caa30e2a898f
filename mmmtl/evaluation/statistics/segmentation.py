# Copyright (c) mmmtl contributors. All rights reserved.
"""Semantic segmentation / human parts: confusion matrix, mIoU, pixel accuracy.

Convention of the standard multi-task toolbox (MTI-Net / ATRC / InvPT
``SemsegMeter`` and ``HumanPartsMeter``): one confusion matrix is accumulated
over every valid pixel of the dataset (pixels whose ground truth is the
ignore value 255 are dropped together with the prediction there), the IoU of
class ``c`` is ``TP_c / (TP_c + FP_c + FN_c)`` and the mIoU is the plain mean
over the classes. A class absent from both the prediction and the ground
truth of the whole dataset (``TP + FP + FN = 0``) is handled by
``absent_class``:

``'zero'`` (default; MTI-Net / ATRC / InvPT toolbox)
    its IoU is **0** and stays in the mean over all ``num_classes`` classes,
    exactly as the toolbox's ``tp / max(tp + fp + fn, 1e-8)``;
``'nanmean'`` (MMSegmentation's ``IoUMetric``, EMA-Net / CTAL)
    its IoU is NaN and the mean is over the other classes.

On the real benchmarks every class occurs in the test set, so the two agree
there; they differ on small or filtered subsets.
"""
from typing import Dict

import torch
from torch import Tensor

from mmmtl.structures.tasks import DISCRETE
from .base import TaskStatistic, register_task_statistic, safe_div, zeros

#: How a class absent from prediction and ground truth enters the mIoU.
ABSENT_CLASS = ('zero', 'nanmean')


def confusion_matrix(pred: Tensor, gt: Tensor, num_classes: int,
                     ignore_index: int = 255) -> Tensor:
    """Confusion matrix of one label map.

    Args:
        pred (Tensor): (..., H, W) predicted class ids.
        gt (Tensor): (..., H, W) ground-truth class ids, ``ignore_index`` for
            ignored pixels. Same shape as ``pred``.
        num_classes (int): Number of classes ``K``.
        ignore_index (int): Ignored ground-truth value.

    Returns:
        Tensor: (K, K) int64 matrix, rows = ground truth, columns =
        prediction, on the device of ``pred``.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth '
                         f'{tuple(gt.shape)} differ in shape')
    gt = gt.to(pred.device).long()
    valid = gt != ignore_index
    g = gt[valid]
    p = pred[valid].long()
    if g.numel():
        if int(g.min()) < 0 or int(g.max()) >= num_classes:
            raise ValueError(
                f'ground-truth labels must be in [0, {num_classes}) or the '
                f'ignore value {ignore_index}; found values in '
                f'[{int(g.min())}, {int(g.max())}]')
        if int(p.min()) < 0 or int(p.max()) >= num_classes:
            raise ValueError(
                f'predicted class ids must be in [0, {num_classes}); found '
                f'values in [{int(p.min())}, {int(p.max())}]')
    counts = torch.bincount(g * num_classes + p,
                            minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes)


def _check_absent_class(absent_class: str) -> None:
    if absent_class not in ABSENT_CLASS:
        raise ValueError(f'absent_class must be one of {ABSENT_CLASS}, got '
                         f'{absent_class!r}')


def iou_per_class(confusion: Tensor, absent_class: str = 'zero') -> Tensor:
    """IoU of each class.

    Args:
        confusion (Tensor): (K, K) matrix, rows = ground truth.
        absent_class (str): IoU of a class with ``TP + FP + FN = 0``:
            ``'zero'`` gives 0, ``'nanmean'`` gives NaN.

    Returns:
        Tensor: (K,) float64 IoU in [0, 1] (or NaN, see above).
    """
    _check_absent_class(absent_class)
    confusion = confusion.double()
    tp = confusion.diagonal()
    union = confusion.sum(0) + confusion.sum(1) - tp
    absent = torch.full_like(tp, 0.0 if absent_class == 'zero' else
                             float('nan'))
    return torch.where(union > 0, tp / union.clamp(min=1), absent)


def mean_iou(confusion: Tensor, absent_class: str = 'zero') -> float:
    """mIoU in percent.

    Args:
        confusion (Tensor): (K, K) matrix, rows = ground truth.
        absent_class (str): ``'zero'`` (absent classes count as 0, mean over
            all classes) or ``'nanmean'`` (mean over the present classes;
            NaN if none is present).

    Returns:
        float: mIoU in percent.
    """
    return float(iou_per_class(confusion, absent_class).nanmean()) * 100.0


def pixel_accuracy(confusion: Tensor) -> float:
    """Overall pixel accuracy in percent (``nan`` without valid pixels)."""
    total = int(confusion.sum())
    return safe_div(float(confusion.diagonal().sum()) * 100.0, total)


@register_task_statistic
class ConfusionStatistic(TaskStatistic):
    """Dataset confusion matrix of a discrete task (mIoU and aAcc).

    State: ``confusion`` (K, K) int64.

    Args:
        task (str): A discrete task (``semseg``, ``human_parts``).
        num_classes (int): Number of classes ``K``.
        absent_class (str): ``'zero'`` or ``'nanmean'``, see the module
            docstring.
    """

    metric_names = ('mIoU', 'aAcc')
    kinds = (DISCRETE, )
    needs_num_classes = True

    def __init__(self, task: str, num_classes: int,
                 absent_class: str = 'zero') -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'num_classes of task {task!r} must be a '
                             f'positive int, got {num_classes!r}')
        _check_absent_class(absent_class)
        self.num_classes = num_classes
        self.absent_class = absent_class
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        k = self.num_classes
        return dict(confusion=zeros(k, k))

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one (1, H, W) label map pair."""
        try:
            cm = confusion_matrix(pred, gt, self.num_classes,
                                  int(self.spec.ignore_value))
        except ValueError as err:
            raise ValueError(f'task {self.task!r}: {err}') from None
        self._add('confusion', cm)

    def compute(self) -> Dict[str, float]:
        cm = self.state['confusion']
        return dict(mIoU=mean_iou(cm, self.absent_class),
                    aAcc=pixel_accuracy(cm))
