# Copyright (c) mmmtl contributors. All rights reserved.
"""One metric for every task of a multi-task model, plus ``delta_m``."""
import logging
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmseg.registry import METRICS
from torch import Tensor

from mmmtl.structures.tasks import TASKS, TaskSpec, check_tasks, get_task
from ..statistics.base import (TASK_STATISTICS, TaskStatistic,
                               build_task_statistic)
from ..statistics.delta_m import delta_m, primary_directions
from ..statistics.segmentation import iou_per_class

_SAMPLER_HINT = ("sampler=dict(type='DefaultSampler', shuffle=False, "
                 'round_up=False)')


@METRICS.register_module()
class MultiTaskMetric(BaseMetric):
    """Per-task dense-prediction metrics and the multi-task gain.

    Every task of ``tasks`` is evaluated by *task statistics*
    (:mod:`mmmtl.evaluation.statistics`) that add fixed-size sums per image
    (a confusion matrix, error sums, threshold counts, a histogram): the
    task table's default statistic of the task (``TaskSpec.statistic``,
    options overridable per task with ``statistics``) and any
    ``extra_statistics``. Memory is
    therefore constant in the number of images, and on several processes the
    sums are ``all_reduce``-d once in :meth:`evaluate`. Counts are int64 and
    float sums are int64 fixed point (resolution 2^-64 per added value, see
    :mod:`~mmmtl.evaluation.statistics.exact_sum`), so additions are exact
    and the result is bit for bit the one a single process computes on the
    same images, whatever the number of processes and the split. The
    default conventions follow the standard multi-task toolbox (MTI-Net /
    ATRC / InvPT) so numbers are comparable with the papers; see each
    statistic's docstring and ``docs/en/user_guides/metrics.md``:

    ================  =========================================================
    task              keys (``'<task>/<metric>'``)
    ================  =========================================================
    semseg,           ``mIoU`` (%, dataset confusion matrix; a class absent
    human_parts       from prediction and ground truth counts as 0 as in the
                      toolbox, or is dropped, ``absent_class``), ``aAcc`` (%)
    depth             ``rmse``, ``log_rmse``, ``abs_rel``, ``abs_err`` (pooled
                      over all valid pixels, ground-truth units),
                      ``delta1..3`` (%)
    normals           ``mean``, ``median``, ``rmse`` (degrees), ``11.25``,
                      ``22.5``, ``30`` (% of valid pixels below;
                      ``validity``)
    saliency          ``maxF``, ``mIoU`` (%, ``preset``)
    edge              ``loss`` (balanced BCE, ``pos_weight``); an ODS
                      F-score can be added with ``extra_statistics``
    ================  =========================================================

    With ``single_task_baselines`` it also reports ``'mtl/delta_m'`` (%,
    Maninis et al.): the mean over tasks of the signed relative difference of
    the task's primary metric (``TaskSpec.primary_metric`` unless overridden
    by ``primary_metrics``) to its single-task reference.

    Each data sample (a dict as mmengine's evaluator passes it, or a
    :class:`~mmmtl.structures.MultiTaskDataSample`) holds per task the ground
    truth ``(C, H, W)`` in ``TASKS[task].gt_field`` and the prediction at the
    same size in ``TASKS[task].pred_field``: class ids ``(1, H, W)`` for
    discrete tasks, probabilities in [0, 1] ``(1, H, W)`` for binary tasks,
    ``(1, H, W)`` depth, ``(3, H, W)`` normals. A sample without the ground
    truth of a task is skipped for that task. A ground truth larger than its
    prediction whose extra bottom/right border is all pad value (ground
    truth padded with a batch, e.g. by a pre-processor in training mode;
    :class:`~mmmtl.models.MultiTaskDataPreProcessor` leaves it unpadded at
    test time) is cropped to the prediction first; any other size mismatch
    is an error.

    Every image must be evaluated once: the number of processed images,
    summed over processes, may not exceed the dataset size (use
    ``sampler=dict(type='DefaultSampler', shuffle=False, round_up=False)``,
    as mmengine's default ``round_up=True`` duplicates images on the last
    batch of some ranks).

    Args:
        tasks (list[str], optional): Tasks to evaluate, keys of the task
            table. By default the tasks of the evaluated dataset,
            ``dataset_meta['tasks']`` (the evaluator sets ``dataset_meta``
            from the dataset's metainfo before the first sample). Given
            tasks must all be tasks of the dataset.
        num_classes (dict[str, int], optional): Classes of discrete tasks;
            missing ones come from ``dataset_meta`` (``classes`` for semseg,
            ``human_parts_classes`` for human parts), which the runner sets.
        single_task_baselines (dict[str, float], optional): Task -> value of
            its primary metric for the single-task model (same unit as the
            reported metric). Must name exactly the evaluated tasks.
        primary_metrics (dict[str, str], optional): Task -> metric used for
            ``delta_m`` instead of the task table's primary metric.
        statistics (dict[str, dict], optional): Task -> config of the
            statistic that evaluates it, overriding the task table's
            ``TaskSpec.statistic``. Without a ``type`` (or with the default's
            type) the keys are merged into the default config, e.g.
            ``dict(semseg=dict(absent_class='nanmean'),
            normals=dict(validity='sum'), saliency=dict(preset='invpt'))``;
            another ``type`` replaces it. Tasks that are not evaluated are
            ignored, so a dataset config can declare the protocol of all its
            tasks. The options of each statistic are documented in its class
            (:class:`~mmmtl.evaluation.statistics.ConfusionStatistic`
            ``absent_class``, :class:`~mmmtl.evaluation.statistics.
            NormalsStatistic` ``validity`` / ``hist_bins``,
            :class:`~mmmtl.evaluation.statistics.SaliencyStatistic`
            ``preset`` / ``beta_sq`` / ``thresholds``,
            :class:`~mmmtl.evaluation.statistics.EdgeLossStatistic`
            ``pos_weight`` / ``mode``).
        extra_statistics (dict[str, list[dict]], optional): Task -> further
            statistic configs ``dict(type=<registered class name>, ...)``
            (e.g. an edge ODS F-score), see
            :func:`mmmtl.evaluation.statistics.register_task_statistic`.
        collect_device (str): Kept for mmengine compatibility; the sums are
            reduced on the communication device of the process group.
        prefix (str, optional): Prefix of every key (``'<prefix>/<task>/..'``).
            Keys already name their task, so none is used by default.
        collect_dir (str, optional): Kept for mmengine compatibility.
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 num_classes: Optional[Dict[str, int]] = None,
                 single_task_baselines: Optional[Dict[str, float]] = None,
                 primary_metrics: Optional[Dict[str, str]] = None,
                 statistics: Optional[Dict[str, dict]] = None,
                 extra_statistics: Optional[Dict[str, List[dict]]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        self._args = dict(num_classes=num_classes,
                          single_task_baselines=single_task_baselines,
                          primary_metrics=primary_metrics,
                          extra_statistics=extra_statistics)
        self.statistics = _check_statistics(statistics)
        self._tasks_given = tasks is not None
        self.tasks: Optional[List[str]] = None
        self._stats: Optional[Dict[str, List[TaskStatistic]]] = None
        self._counts: Optional[Dict[str, Tensor]] = None
        if tasks is not None:
            self._configure(check_tasks(tasks, 'MultiTaskMetric.tasks'))

    # ------------------------------------------------------------------
    # configuration checks
    # ------------------------------------------------------------------
    @property
    def dataset_meta(self) -> Optional[dict]:
        """Metainfo of the evaluated dataset (set by the evaluator)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Set the metainfo; without ``tasks`` the metric takes the
        dataset's ``tasks`` (and checks its own against them otherwise)."""
        self._dataset_meta = dataset_meta
        meta_tasks = (dataset_meta or {}).get('tasks')
        if meta_tasks is None:
            return
        meta_tasks = check_tasks(meta_tasks, "dataset_meta['tasks']")
        if not self._tasks_given:
            self._configure(meta_tasks)
            return
        unknown = [t for t in self.tasks if t not in meta_tasks]
        if unknown:
            raise ValueError(
                f'MultiTaskMetric.tasks={self.tasks} names {unknown}, which '
                f'the evaluated dataset does not load (its metainfo tasks '
                f'are {meta_tasks}); drop them from the metric\'s tasks or '
                f'leave tasks unset to evaluate the dataset\'s tasks')

    def _configure(self, tasks: List[str]) -> None:
        """Set the evaluated tasks and check every task-dependent argument
        against them."""
        self.tasks = tasks
        self._stats = None
        self._counts = None
        self.num_classes = self._check_num_classes(self._args['num_classes'])
        self.extra_statistics = self._check_extra(
            self._args['extra_statistics'])
        self._validate_statistics()
        self.primary_metrics = self._check_primary(
            self._args['primary_metrics'])
        self.single_task_baselines = self._check_baselines(
            self._args['single_task_baselines'])

    def _require_tasks(self) -> List[str]:
        if self.tasks is None:
            raise ValueError(
                'MultiTaskMetric has no tasks to evaluate: give '
                "tasks=[...] or evaluate a dataset whose metainfo has "
                "'tasks' (the evaluator sets dataset_meta before the first "
                'sample)')
        return self.tasks

    def _check_num_classes(self, num_classes: Optional[dict]
                           ) -> Dict[str, int]:
        if num_classes is None:
            return {}
        if not isinstance(num_classes, dict):
            raise TypeError(f'MultiTaskMetric.num_classes must be a dict '
                            f'task -> int, got {num_classes!r}')
        for task, value in num_classes.items():
            if task not in self.tasks or not get_task(task).is_discrete:
                raise ValueError(
                    f'MultiTaskMetric.num_classes names {task!r}, which is '
                    f'not a discrete task of tasks={self.tasks}')
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'MultiTaskMetric.num_classes[{task!r}] '
                                 f'must be a positive int, got {value!r}')
        return dict(num_classes)

    def _check_extra(self, extra: Optional[dict]) -> Dict[str, List[dict]]:
        if extra is None:
            return {}
        if not isinstance(extra, dict):
            raise TypeError(f'MultiTaskMetric.extra_statistics must be a dict '
                            f'task -> list of configs, got {extra!r}')
        out = {}
        for task, cfgs in extra.items():
            if task not in self.tasks:
                raise ValueError(f'MultiTaskMetric.extra_statistics names '
                                 f'{task!r}, which is not in tasks='
                                 f'{self.tasks}')
            cfgs = [cfgs] if isinstance(cfgs, dict) else list(cfgs)
            for cfg in cfgs:
                if not isinstance(cfg, dict) or cfg.get(
                        'type') not in TASK_STATISTICS:
                    raise KeyError(
                        f'MultiTaskMetric.extra_statistics[{task!r}] entry '
                        f'{cfg!r} must be a dict whose type is one of '
                        f'{sorted(TASK_STATISTICS)}')
            out[task] = cfgs
        return out

    def _statistic_cfgs(self, task: str,
                        with_classes: bool = True) -> List[dict]:
        """Configs of the statistics of ``task``: the task table's default
        (with this metric's override) and the extras. With
        ``with_classes`` a statistic that needs the class count gets it."""
        default = _merged_statistic(task, self.statistics.get(task))
        cfgs = [default] if default is not None else []
        cfgs += [dict(c) for c in self.extra_statistics.get(task, [])]
        if not cfgs:
            raise ValueError(f'MultiTaskMetric has no statistic for task '
                             f'{task!r}: the task table gives none; add one '
                             f'with statistics or extra_statistics')
        if with_classes:
            cfgs = [self._with_classes(cfg, task) for cfg in cfgs]
        return cfgs

    def _with_classes(self, cfg: dict, task: str) -> dict:
        """``cfg`` with ``num_classes`` when its statistic needs it."""
        if TASK_STATISTICS[cfg['type']].needs_num_classes and \
                'num_classes' not in cfg:
            cfg = dict(cfg, num_classes=self._class_count(get_task(task)))
        return cfg

    def _metric_names(self, task: str) -> List[str]:
        """Metric names the statistics of ``task`` report (no class count
        needed)."""
        names: List[str] = []
        for cfg in self._statistic_cfgs(task, with_classes=False):
            for name in TASK_STATISTICS[cfg['type']].metric_names:
                if name in names:
                    raise ValueError(
                        f'two statistics of task {task!r} report {name!r}; '
                        f'check MultiTaskMetric.statistics and '
                        f'extra_statistics')
                names.append(name)
        return names

    def _validate_statistics(self) -> None:
        """Build every statistic once, so a bad option fails when the metric
        is configured (a statistic that needs the class count is built with
        a one-class placeholder when the count is not known yet)."""
        for task in self.tasks:
            self._metric_names(task)
            for cfg in self._statistic_cfgs(task, with_classes=False):
                if TASK_STATISTICS[cfg['type']].needs_num_classes:
                    cfg = dict(cfg, num_classes=cfg.get(
                        'num_classes', self.num_classes.get(task, 1)))
                build_task_statistic(cfg, task)

    def _check_primary(self, primary: Optional[dict]) -> Dict[str, str]:
        primary = dict(primary or {})
        for task in primary:
            if task not in self.tasks:
                raise ValueError(f'MultiTaskMetric.primary_metrics names '
                                 f'{task!r}, which is not in tasks='
                                 f'{self.tasks}')
        out = {}
        for task in self.tasks:
            name = primary.get(task, get_task(task).primary_metric)
            reported = self._metric_names(task)
            listed = [m.name for m in get_task(task).metrics]
            if name not in listed:
                raise ValueError(
                    f'primary metric {name!r} of task {task!r} has no '
                    f'direction in the task table, which lists {listed}')
            if name not in reported:
                raise ValueError(
                    f'primary metric {name!r} of task {task!r} is not '
                    f'reported; the task reports {reported} (set '
                    f'MultiTaskMetric.primary_metrics or extra_statistics)')
            out[task] = name
        return out

    def _check_baselines(self, baselines: Optional[dict]
                         ) -> Optional[Dict[str, float]]:
        if baselines is None:
            return None
        if not isinstance(baselines, dict):
            raise TypeError(f'MultiTaskMetric.single_task_baselines must be a '
                            f'dict task -> float, got {baselines!r}')
        extra = [t for t in baselines if t not in self.tasks]
        missing = [t for t in self.tasks if t not in baselines]
        if extra or missing:
            raise ValueError(
                f'MultiTaskMetric.single_task_baselines must give one '
                f'reference per evaluated task {self.tasks}: not evaluated '
                f'{extra}, missing {missing}')
        out = {}
        for task, value in baselines.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(
                    f'single_task_baselines[{task!r}] must be the number of '
                    f'the primary metric {self.primary_metrics[task]!r}, got '
                    f'{value!r}')
            if value == 0:
                raise ValueError(f'single_task_baselines[{task!r}] is 0; the '
                                 f'relative gain is undefined')
            out[task] = float(value)
        return out

    def _class_count(self, spec: TaskSpec) -> int:
        if spec.name in self.num_classes:
            return self.num_classes[spec.name]
        meta = self.dataset_meta or {}
        classes = meta.get(spec.classes_key)
        if not classes:
            raise ValueError(
                f'MultiTaskMetric needs the number of classes of task '
                f'{spec.name!r}: give num_classes={{{spec.name!r}: K}} or '
                f'dataset metainfo with {spec.classes_key!r}')
        return len(classes)

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    def _ensure_built(self) -> Dict[str, List[TaskStatistic]]:
        if self._stats is None:
            self._require_tasks()
            self._stats = {
                task: [
                    build_task_statistic(cfg, task)
                    for cfg in self._statistic_cfgs(task)
                ]
                for task in self.tasks
            }
            self._counts = dict(
                images=torch.zeros((), dtype=torch.int64),
                task_images=torch.zeros(len(self.tasks), dtype=torch.int64))
        return self._stats

    def _state_tensors(self) -> List[Tensor]:
        """Every state tensor, in the same order on every process."""
        stats = self._ensure_built()
        tensors = [self._counts['images'], self._counts['task_images']]
        for task in self.tasks:
            for stat in stats[task]:
                tensors.extend(stat.state[k] for k in sorted(stat.state))
        return tensors

    def state_numel(self) -> int:
        """Number of elements of the accumulated state (constant)."""
        return sum(t.numel() for t in self._state_tensors())

    def reset(self) -> None:
        """Drop the accumulated state (rebuilt on the next sample)."""
        self._stats = None
        self._counts = None
        self.results.clear()

    # ------------------------------------------------------------------
    # processing
    # ------------------------------------------------------------------
    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Add a batch of samples with ground truth and predictions.

        Args:
            data_batch (Any): The dataloader batch (unused).
            data_samples (Sequence[dict | MultiTaskDataSample]): Samples with
                ``<gt_field>`` and ``<pred_field>`` of each task.
        """
        stats = self._ensure_built()
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            if not isinstance(sample, dict):
                raise TypeError(f'MultiTaskMetric expects data samples as '
                                f'dicts or MultiTaskDataSample, got '
                                f'{type(sample).__name__}')
            for i, task in enumerate(self.tasks):
                spec = get_task(task)
                gt = _pixel_tensor(sample, spec.gt_field)
                if gt is None:
                    continue
                pred = _pixel_tensor(sample, spec.pred_field)
                if pred is None:
                    raise KeyError(
                        f'a data sample has ground truth {spec.gt_field!r} '
                        f'of task {task!r} but no prediction '
                        f'{spec.pred_field!r}')
                gt = _strip_padding(spec, pred, gt)
                _check_pair(spec, pred, gt)
                for stat in stats[task]:
                    stat.update(pred, gt)
                self._counts['task_images'][i] += 1
            self._counts['images'] += 1

    def evaluate(self, size: int) -> Dict[str, float]:
        """Reduce the sums over processes and compute every metric once.

        Args:
            size (int): Number of images of the dataset.

        Returns:
            dict[str, float]: ``'<task>/<metric>'`` (and ``'mtl/delta_m'``);
            the same dict on every process.
        """
        try:
            for tensor in self._state_tensors():
                all_reduce(tensor, op='sum')
            num = int(self._counts['images'])
            if num > size:
                raise RuntimeError(
                    f'MultiTaskMetric processed {num} images but the dataset '
                    f'has {size}: some images were evaluated more than once '
                    f'(a distributed sampler pads ranks with duplicated '
                    f'samples when round_up=True), which would bias every '
                    f'metric. Use {_SAMPLER_HINT} in the val/test '
                    f'dataloader.')
            if num < size:
                print_log(
                    f'MultiTaskMetric evaluated {num} of the {size} images '
                    f'of the dataset.', logger='current',
                    level=logging.WARNING)
            metrics = self.compute_metrics([])
        finally:
            self.reset()
        if self.prefix:
            metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Metrics of the accumulated state.

        Args:
            results (list): Unused; the state replaces mmengine's list of
                per-batch results.

        Returns:
            dict[str, float]: ``'<task>/<metric>'`` and ``'mtl/delta_m'``.
        """
        stats = self._ensure_built()
        metrics: Dict[str, float] = {}
        for i, task in enumerate(self.tasks):
            if int(self._counts['task_images'][i]) == 0:
                print_log(f'MultiTaskMetric: no image had ground truth of '
                          f'task {task!r}; its metrics are NaN.',
                          logger='current', level=logging.WARNING)
            for stat in stats[task]:
                for name, value in stat.compute().items():
                    metrics[f'{task}/{name}'] = float(value)
                self._log_classes(stat)
        if self.single_task_baselines is not None:
            values = {t: metrics[f'{t}/{m}']
                      for t, m in self.primary_metrics.items()}
            metrics['mtl/delta_m'] = delta_m(
                values, self.single_task_baselines,
                primary_directions(self.primary_metrics))
        return metrics

    def _log_classes(self, stat: TaskStatistic) -> None:
        """Log the per-class IoU of a discrete task."""
        if 'confusion' not in stat.state:
            return
        ious = iou_per_class(stat.state['confusion'],
                             stat.absent_class) * 100.0
        names = list((self.dataset_meta or {}).get(
            stat.spec.classes_key) or [])
        if len(names) != len(ious):
            names = [str(c) for c in range(len(ious))]
        text = ', '.join(f'{n}: {v:.2f}' for n, v in zip(names, ious.tolist()))
        print_log(f'{stat.task} per-class IoU (%): {text}', logger='current')


def _check_statistics(statistics: Optional[dict]) -> Dict[str, dict]:
    """Check ``MultiTaskMetric.statistics`` (task -> config override)."""
    if statistics is None:
        return {}
    if not isinstance(statistics, dict):
        raise TypeError(f'MultiTaskMetric.statistics must be a dict task -> '
                        f'statistic config, got {statistics!r}')
    for task, cfg in statistics.items():
        if task not in TASKS:
            raise KeyError(f'MultiTaskMetric.statistics names unknown task '
                           f'{task!r}; known tasks are {sorted(TASKS)}')
        if not isinstance(cfg, dict) or cfg.get(
                'type', TASKS[task].statistic and
                TASKS[task].statistic['type']) not in TASK_STATISTICS:
            raise KeyError(
                f'MultiTaskMetric.statistics[{task!r}] = {cfg!r} must be a '
                f'dict whose type (default: the task table\'s '
                f'{TASKS[task].statistic!r}) is one of '
                f'{sorted(TASK_STATISTICS)}')
    return {task: dict(cfg) for task, cfg in statistics.items()}


def _merged_statistic(task: str, override: Optional[dict]) -> Optional[dict]:
    """The task table's default statistic config of ``task`` with
    ``override`` merged in (replaced when it names another type)."""
    default = get_task(task).statistic
    if override is None:
        return dict(default) if default is not None else None
    if default is None or override.get('type', default['type']) != \
            default['type']:
        return dict(override)
    return {**default, **override}


def _pixel_tensor(sample: dict, field: str) -> Optional[Tensor]:
    """The ``(C, H, W)`` tensor of ``sample[field]``, or ``None``."""
    value = sample.get(field)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get('data')
    elif isinstance(value, BaseDataElement):
        value = value.get('data')
    if value is None:
        return None
    return torch.as_tensor(value)


def _strip_padding(spec: TaskSpec, pred: Tensor, gt: Tensor) -> Tensor:
    """Crop bottom/right padding off ``gt`` when it is pure padding.

    A pre-processor that pads ground truth with a batch (in training mode)
    pads it to the padded image size with the task's pad (= ignore) value,
    while predictions are cropped back to the original size. When
    ``gt`` is larger than ``pred`` and everything outside its top-left
    ``pred``-sized window is the pad value, that window is returned (the
    cropped pixels would be ignored anyway); otherwise ``gt`` unchanged.
    """
    if gt.dim() != 3 or pred.dim() != 3 or gt.shape[1:] == pred.shape[1:]:
        return gt
    h, w = pred.shape[1:]
    if gt.shape[1] < h or gt.shape[2] < w:
        return gt
    outside = torch.cat([gt[:, h:, :].flatten(), gt[:, :h, w:].flatten()])
    if bool((outside == spec.pad_value).all()):
        return gt[:, :h, :w]
    return gt


def _check_pair(spec: TaskSpec, pred: Tensor, gt: Tensor) -> None:
    """Raise a clear error when a prediction does not fit its ground truth."""
    pred_channels = 1 if not spec.is_continuous else spec.channels
    expected = (f'({pred_channels}, H, W) prediction and '
                f'({spec.gt_channels}, H, W) ground truth of the same H, W')
    if (gt.dim() != 3 or pred.dim() != 3 or gt.shape[0] != spec.gt_channels
            or pred.shape[0] != pred_channels
            or pred.shape[1:] != gt.shape[1:]):
        raise ValueError(
            f'task {spec.name!r}: got prediction {spec.pred_field!r} of '
            f'shape {tuple(pred.shape)} and ground truth {spec.gt_field!r} '
            f'of shape {tuple(gt.shape)}; MultiTaskMetric expects a '
            f'{expected} (predictions resized to the ground-truth size)')
    if spec.is_binary and pred.numel() and (float(pred.min()) < 0
                                            or float(pred.max()) > 1):
        raise ValueError(
            f'task {spec.name!r}: predictions must be probabilities in '
            f'[0, 1], got values in [{float(pred.min()):.4g}, '
            f'{float(pred.max()):.4g}] (logits?)')
