# Copyright (c) mmmtl contributors. All rights reserved.
"""Base class and registry of per-task sufficient statistics.

A *task statistic* turns one image's prediction and ground truth into a few
fixed-size tensors (sums, counts, a confusion matrix, a histogram) that are
**added** to its running state. Because every state entry is a sum over
images (float sums in exact fixed point, see
:mod:`~mmmtl.evaluation.statistics.exact_sum`, so that the order of
summation does not matter), the state of a whole dataset split over several
processes is the element-wise sum of the per-process states, so
:class:`~mmmtl.evaluation.MultiTaskMetric` can ``all_reduce`` it and compute
the metrics once: memory does not grow with the number of images and the
result under distributed evaluation is the one of a single process.

New statistics (e.g. the edge ODS F-score) plug in with
:func:`register_task_statistic` and are enabled per task through
``MultiTaskMetric(extra_statistics=dict(edge=[dict(type='MyStatistic')]))``
or replace a task's default statistic (``TaskSpec.statistic`` of the task
table) with ``MultiTaskMetric(statistics=dict(edge=dict(type=...)))``.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Tuple, Type, Union

import torch
from torch import Tensor

from mmmtl.structures.tasks import TaskSpec, get_task
from .exact_sum import from_fixed_point, to_fixed_point

#: Name -> class of every registered :class:`TaskStatistic`.
TASK_STATISTICS: Dict[str, Type['TaskStatistic']] = {}


def register_task_statistic(cls: Type['TaskStatistic']
                            ) -> Type['TaskStatistic']:
    """Class decorator that registers a :class:`TaskStatistic` by class name.

    Args:
        cls (type): A subclass of :class:`TaskStatistic`.

    Returns:
        type: ``cls`` itself.
    """
    if not (isinstance(cls, type) and issubclass(cls, TaskStatistic)):
        raise TypeError(f'only TaskStatistic subclasses can be registered, '
                        f'got {cls!r}')
    name = cls.__name__
    if name in TASK_STATISTICS and TASK_STATISTICS[name] is not cls:
        raise KeyError(f'a task statistic called {name!r} is already '
                       f'registered ({TASK_STATISTICS[name]!r})')
    TASK_STATISTICS[name] = cls
    return cls


def build_task_statistic(cfg: Union[dict, 'TaskStatistic'],
                         task: str) -> 'TaskStatistic':
    """Build a statistic of ``task`` from ``dict(type=<class name>, ...)``.

    Args:
        cfg (dict | TaskStatistic): Config (``type`` plus keyword arguments
            of the class) or an already built statistic.
        task (str): Task the statistic evaluates.

    Returns:
        TaskStatistic: The built statistic.
    """
    if isinstance(cfg, TaskStatistic):
        if cfg.task != task:
            raise ValueError(f'statistic {type(cfg).__name__} evaluates task '
                             f'{cfg.task!r}, not {task!r}')
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'a task statistic config must be a dict with a '
                        f'`type` key, got {cfg!r} for task {task!r}')
    cfg = dict(cfg)
    name = cfg.pop('type')
    if name not in TASK_STATISTICS:
        raise KeyError(f'unknown task statistic type {name!r} for task '
                       f'{task!r}; registered ones are '
                       f'{sorted(TASK_STATISTICS)}')
    return TASK_STATISTICS[name](task=task, **cfg)


class TaskStatistic(metaclass=ABCMeta):
    """Running sufficient statistics of one task.

    Subclasses set :attr:`metric_names` (names of the scalars they report;
    those listed in ``TASKS[task].metrics`` have a direction and can be a
    primary metric of ``delta_m``, others are extra keys) and :attr:`kinds`
    (task kinds they accept, empty for any), and implement
    :meth:`_init_state`, :meth:`update` and :meth:`compute`. A statistic
    whose constructor takes ``num_classes`` sets :attr:`needs_num_classes`;
    :class:`~mmmtl.evaluation.MultiTaskMetric` then passes the task's class
    count (from its ``num_classes`` or the dataset metainfo). Every entry of
    :attr:`state` must be a sum over images (never a mean, max or list) so
    that summing the states of several processes gives the state of all
    their images. Float sums use
    :func:`exact_zeros` / :meth:`_add_exact` / :meth:`exact` so the result
    does not depend on how images are split over processes.

    Args:
        task (str): Task key of the task table.
    """

    metric_names: Tuple[str, ...] = ()
    kinds: Tuple[str, ...] = ()
    needs_num_classes: bool = False

    def __init__(self, task: str) -> None:
        self.spec: TaskSpec = get_task(task)
        if self.kinds and self.spec.kind not in self.kinds:
            raise ValueError(
                f'{type(self).__name__} evaluates {self.kinds} tasks; task '
                f'{task!r} is {self.spec.kind!r}')
        self.state: Dict[str, Tensor] = {}
        self.reset()

    @property
    def task(self) -> str:
        """Task key."""
        return self.spec.name

    def reset(self) -> None:
        """Zero the running state."""
        self.state = self._init_state()

    def state_numel(self) -> int:
        """Total number of elements in the state (constant by design)."""
        return sum(t.numel() for t in self.state.values())

    @abstractmethod
    def _init_state(self) -> Dict[str, Tensor]:
        """Return the zero state: name -> tensor on the CPU."""

    @abstractmethod
    def update(self, pred: Tensor, gt: Tensor) -> None:
        """Add one image to the state.

        Args:
            pred (Tensor): (C_pred, H, W) prediction at the ground-truth size.
            gt (Tensor): (C_gt, H, W) ground truth.
        """

    @abstractmethod
    def compute(self) -> Dict[str, float]:
        """Metrics of the images added so far, ``{metric_name: value}``."""

    def _add(self, name: str, value: Tensor) -> None:
        """Add ``value`` to the state entry ``name`` (on its device)."""
        entry = self.state[name]
        entry += value.to(device=entry.device, dtype=entry.dtype)

    def _add_exact(self, name: str, value: Tensor) -> None:
        """Add float ``value`` to the fixed-point sum ``name`` (created with
        :func:`~mmmtl.evaluation.statistics.exact_sum.exact_zeros`)."""
        self._add(name, to_fixed_point(value))

    def exact(self, name: str) -> Tensor:
        """Float64 value of the fixed-point sum ``name``."""
        return from_fixed_point(self.state[name])


def zeros(*shape: int, dtype: torch.dtype = torch.int64) -> Tensor:
    """A CPU zero tensor of ``shape`` (int64 counts by default)."""
    return torch.zeros(shape, dtype=dtype)


def safe_div(num: float, den: float, empty: float = float('nan')) -> float:
    """``num / den`` or ``empty`` when ``den`` is zero."""
    return num / den if den != 0 else empty
