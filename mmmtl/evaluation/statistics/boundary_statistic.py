# Copyright (c) mmmtl contributors. All rights reserved.
"""Edge ODS / OIS F-score and AP as a :class:`TaskStatistic`.

Wraps the SEISM-style boundary matching of
:mod:`~mmmtl.evaluation.statistics.boundary_f` so that
:class:`~mmmtl.evaluation.MultiTaskMetric` reports ``edge/odsF`` (and the
extra keys ``edge/oisF``, ``edge/AP``). The state is the per-threshold
boundary counts summed over images plus the OIS counts: integers, so it
all-reduces exactly and has constant size.

Enable it per config, naming the protocol of the numbers you compare
with (:data:`~mmmtl.evaluation.statistics.boundary_f.BOUNDARY_PROTOCOLS`)::

    test_evaluator = dict(
        type='MultiTaskMetric', tasks=tasks,
        extra_statistics=dict(edge=[dict(type='BoundaryFStatistic',
                                         protocol='seism', max_dist=0.011)]))

A named protocol matches exactly (one-to-one, ``matching='bipartite'``).
For a quick estimate during training, override it with
``matching='distance'`` (many-to-one, an upper bound of precision and
recall: an approximation, logged as such when the scores are computed) and
fewer ``thresholds``.
"""
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from torch import Tensor

from mmmtl.structures.tasks import BINARY
from .base import TaskStatistic, register_task_statistic, zeros
from .boundary_f import (BOUNDARY_PROTOCOLS, MAX_DIST, _as_thresholds,
                         best_image_counts, boundary_pr_counts,
                         boundary_scores, protocol_options)


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
        protocol (str, optional): ``'seism'`` (NMS, ``> t``; ATRC, InvPT and
            successors) or ``'toolbox'`` (no NMS, ``>= t``; MTI-Net
            toolbox); both read the map as an 8-bit PNG and match exactly.
            ``None`` keeps the function defaults (NMS, ``> t``, no
            quantisation, approximate ``'distance'`` matching).
        **kwargs: Options of
            :func:`~mmmtl.evaluation.statistics.boundary_f.
            boundary_pr_counts` overriding the protocol's (``nms``,
            ``thin_pred``, ``thin_gt``, ``matching``, ``comparison``,
            ``quantize``).
    """

    metric_names = ('odsF', 'oisF', 'AP')
    kinds = (BINARY, )

    def __init__(self, task: str,
                 thresholds: Union[int, Sequence[float]] = 99,
                 max_dist: float = 0.0075,
                 protocol: Optional[str] = None, **kwargs) -> None:
        self.thresholds = _as_thresholds(thresholds)
        self.max_dist = float(max_dist)
        self.protocol = protocol
        unknown = set(kwargs) - {'nms', 'thin_pred', 'thin_gt', 'matching',
                                 'comparison', 'quantize'}
        if unknown:
            raise TypeError(f'BoundaryFStatistic got unknown options '
                            f'{sorted(unknown)}')
        self.options = protocol_options(protocol, **kwargs)
        if self.options.get('matching', 'distance') not in ('bipartite',
                                                            'distance'):
            raise ValueError(f"BoundaryFStatistic matching must be "
                             f"'bipartite' or 'distance', got "
                             f"{self.options['matching']!r}")
        if self.options.get('comparison', '>') not in ('>', '>='):
            raise ValueError(f"BoundaryFStatistic comparison must be '>' or "
                             f"'>=', got {self.options['comparison']!r}")
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
        if self.options.get('matching', 'distance') == 'distance':
            print_log(
                f'{self.task}/odsF, oisF and AP use the approximate '
                f"matching='distance' (an upper bound, for validation "
                f'only); report numbers from an exact protocol '
                f'({sorted(BOUNDARY_PROTOCOLS)}).', logger='current')
        scores = boundary_scores(self.state['total'].numpy(),
                                 self.state['ois'].numpy(), self.thresholds)
        return {name: 100.0 * scores[name] for name in self.metric_names}


__all__ = ['BoundaryFStatistic', 'BOUNDARY_PROTOCOLS', 'MAX_DIST']
