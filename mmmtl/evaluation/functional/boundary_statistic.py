# Copyright (c) mmmtl contributors. All rights reserved.
"""Edge ODS / OIS F-score and AP as a :class:`TaskStatistic`.

Wraps the SEISM-style boundary matching of
:mod:`~mmmtl.evaluation.functional.boundary_f` so that
:class:`~mmmtl.evaluation.MultiTaskMetric` reports ``edge/odsF`` (and the
extra keys ``edge/oisF``, ``edge/AP``). The state is the per-threshold
boundary counts summed over images plus the OIS counts: integers, so it
all-reduces exactly and has constant size.

Enable it per config::

    val_evaluator = dict(
        type='MultiTaskMetric', tasks=tasks,
        extra_statistics=dict(edge=[dict(type='BoundaryFStatistic',
                                         max_dist=0.011)]))

It is off by default because the matching runs on the CPU at every
threshold (about 3.5 s per 480x640 image with 99 thresholds); pass
``thresholds=19`` for a quick estimate during training and the default 99
(and ``matching='bipartite'`` for the exact one-to-one correspondence) for
final numbers.
"""
from typing import Dict, Sequence, Union

import torch
from torch import Tensor

from mmmtl.structures.tasks import BINARY
from .base import TaskStatistic, register_task_statistic, zeros
from .boundary_f import (MAX_DIST, _as_thresholds, best_image_counts,
                         boundary_pr_counts, boundary_scores)


@register_task_statistic
class BoundaryFStatistic(TaskStatistic):
    """Dataset-level boundary F-scores of an edge task (percent).

    Args:
        task (str): A binary task of the task table (``'edge'``).
        thresholds (int | Sequence[float]): Number of thresholds (99 gives
            0.01..0.99, as SEISM) or the thresholds themselves.
        max_dist (float): Matching tolerance as a fraction of the image
            diagonal (0.0075 PASCAL-Context / BSDS, 0.011 NYUD as
            ATRC/InvPT evaluate; see ``boundary_f.MAX_DIST``).
        **kwargs: Further options of
            :func:`~mmmtl.evaluation.functional.boundary_f.
            boundary_pr_counts` (``nms``, ``thin_pred``, ``thin_gt``,
            ``matching``).
    """

    metric_names = ('odsF', 'oisF', 'AP')
    kinds = (BINARY, )

    def __init__(self, task: str,
                 thresholds: Union[int, Sequence[float]] = 99,
                 max_dist: float = 0.0075, **kwargs) -> None:
        self.thresholds = _as_thresholds(thresholds)
        self.max_dist = float(max_dist)
        self.options = kwargs
        super().__init__(task)

    def _init_state(self) -> Dict[str, Tensor]:
        return dict(total=zeros(len(self.thresholds), 4), ois=zeros(4))

    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one image: ``pred`` (1, H, W) probabilities, ``gt`` (1, H, W)
        {0, 1} with 255 ignored."""
        counts = boundary_pr_counts(
            pred[0].detach().double().cpu().numpy(),
            gt[0].cpu().numpy(), self.thresholds, max_dist=self.max_dist,
            ignore_index=int(self.spec.ignore_value), **self.options)
        self._add('total', torch.from_numpy(counts))
        self._add('ois', torch.from_numpy(best_image_counts(counts)))

    def compute(self) -> Dict[str, float]:
        scores = boundary_scores(self.state['total'].numpy(),
                                 self.state['ois'].numpy(), self.thresholds)
        return {name: 100.0 * scores[name] for name in self.metric_names}


__all__ = ['BoundaryFStatistic', 'MAX_DIST']
