# Copyright (c) mmmtl contributors. All rights reserved.
"""The task table: every per-pixel task mmmtl knows, described once.

Datasets, transforms, the data pre-processor, heads, losses, metrics and the
visualizer read this table instead of branching on task names. Adding a task
means adding one :class:`TaskSpec` to :data:`TASKS` (see
``docs/en/user_guides/add_task.md``).

Conventions shared by every task:

* In a pipeline ``results`` dict a task's map lives under ``results_key`` and
  that key is listed in ``results['seg_fields']`` so MMSegmentation's geometric
  transforms move it. Maps are ``(H, W)`` for one channel, ``(H, W, C)`` for
  several.
* In a :class:`~mmmtl.structures.MultiTaskDataSample` the ground truth lives in
  the ``gt_field`` and the prediction in the ``pred_field`` as
  :class:`~mmengine.structures.PixelData` with ``data`` of shape ``(C, H, W)``.
* Pixels equal to ``ignore_value`` (all channels equal to it, for
  multi-channel maps) are excluded from losses and metrics.
"""
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

DISCRETE = 'discrete'
CONTINUOUS = 'continuous'
BINARY = 'binary'


@dataclass(frozen=True)
class MetricSpec:
    """One scalar a task reports.

    Attributes:
        name (str): Key of the metric, e.g. ``'mIoU'``; reported as
            ``'<task>/<name>'``.
        higher_is_better (bool): Direction, used by the multi-task gain.
    """
    name: str
    higher_is_better: bool


@dataclass(frozen=True)
class LabelEncoding:
    """One way a task's annotation is stored on disk.

    A dataset declares, per task, the encoding of its files (``encoding=``
    in its ``ann_info`` entries, the task's ``default_encoding`` if
    omitted); the loader checks every raw array against it and refuses the
    file, naming the values it saw, when they do not fit.

    Attributes:
        name (str): Key used in ``ann_info`` (e.g. ``'uint16_mm'``).
        description (str): What the file holds, for messages.
        dtype_kinds (str): Accepted numpy dtype kinds (``'b'`` bool,
            ``'u'``/``'i'`` integers, ``'f'`` floats).
        dtypes (tuple[str], optional): Exact accepted dtypes (wins over
            ``dtype_kinds``), e.g. ``('uint16', )``.
        values (tuple[int], optional): The only raw values allowed.
        value_range (tuple[float, float], optional): Inclusive range of the
            raw values.
        integral (bool): Float arrays must hold whole numbers.
        scale (float): Raw values are multiplied by it (continuous tasks;
            binary tasks before ``threshold``).
        threshold (float, optional): Binary tasks: ``raw * scale >
            threshold`` is positive.
        positive_value (float, optional): Binary tasks: the raw value that
            marks positives (every other value is negative).
        refuse_subset (tuple[int], optional): Refuse a file whose values
            are all in this set and include its largest element (e.g. a
            ``{0, 1}`` mask declared as 8-bit grey values, which would
            decode to all negative).
    """
    name: str
    description: str
    dtype_kinds: str = 'uif'
    dtypes: Optional[Tuple[str, ...]] = None
    values: Optional[Tuple[int, ...]] = None
    value_range: Optional[Tuple[float, float]] = None
    integral: bool = False
    scale: float = 1.0
    threshold: Optional[float] = None
    positive_value: Optional[float] = None
    refuse_subset: Optional[Tuple[int, ...]] = None


def _encodings(*encodings: LabelEncoding) -> Dict[str, LabelEncoding]:
    return {e.name: e for e in encodings}


_IDS = LabelEncoding(
    'ids', 'integer class ids (any integer dtype, or floats holding whole '
    'numbers)', dtype_kinds='uif', integral=True)
_BINARY_ENCODINGS = (
    LabelEncoding('binary', '{0, 1}: 1 positive', dtype_kinds='buif',
                  values=(0, 1)),
    LabelEncoding('binary_255', '{0, 255}: 255 positive',
                  dtype_kinds='uif', values=(0, 255), positive_value=255),
    LabelEncoding('grey', 'uint8 grey levels 0..255: v / 255 > 0.5 '
                  'positive', dtypes=('uint8', ), scale=1 / 255,
                  threshold=0.5, refuse_subset=(0, 1)),
    LabelEncoding('probability', 'float probabilities in [0, 1]: > 0.5 '
                  'positive', dtype_kinds='f', value_range=(0.0, 1.0),
                  threshold=0.5),
    LabelEncoding('binary_ignore', '{0, 1, 255}: 1 positive, 255 ignored',
                  dtype_kinds='uif', values=(0, 1, 255)),
)
_NORMALS_ENCODINGS = (
    LabelEncoding('float', 'float (H, W, 3) unit vectors, zero = invalid',
                  dtype_kinds='f'),
    LabelEncoding('uint8', 'uint8 (H, W, 3), n = 2 v / 255 - 1, (0, 0, 0) '
                  '= invalid', dtypes=('uint8', )),
    LabelEncoding('uint16', 'uint16 (H, W, 3), n = 2 v / 65535 - 1, '
                  '(0, 0, 0) = invalid', dtypes=('uint16', )),
)
_DEPTH_ENCODINGS = (
    LabelEncoding('float', 'float depth (metres, or the dataset\'s own '
                  'units), 0 = invalid', dtype_kinds='f'),
    LabelEncoding('uint16_mm', 'uint16 millimetres, 0 = invalid',
                  dtypes=('uint16', ), scale=1e-3),
)


#: Encodings of a task that declares none, by kind (first = default).
_KIND_ENCODINGS: Dict[str, Dict[str, LabelEncoding]] = {
    DISCRETE: _encodings(_IDS),
    BINARY: _encodings(*_BINARY_ENCODINGS),
    CONTINUOUS: _encodings(
        LabelEncoding('float', 'float values, 0 = invalid',
                      dtype_kinds='f')),
}


@dataclass(frozen=True)
class TaskSpec:
    """Everything the code base needs to know about one task.

    Attributes:
        name (str): Task key, e.g. ``'depth'``.
        kind (str): ``'discrete'`` (classes, softmax), ``'continuous'``
            (regression) or ``'binary'`` (one sigmoid channel).
        results_key (str): Key of the map in a pipeline ``results`` dict.
        gt_field (str): Ground-truth field of the data sample.
        pred_field (str): Prediction field of the data sample.
        ignore_value (float): Value that marks invalid / ignored pixels.
        pad_value (float): Value used to pad the map; always the ignore value
            so padded pixels never count.
        channels (int | None): Number of prediction channels, ``None`` when it
            is the number of classes from dataset metainfo.
        gt_channels (int): Channels of the ground-truth map.
        classes_key (str | None): Metainfo key holding the class names of a
            discrete task.
        flip_negate_channels (dict[str, tuple[int]]): Channels negated by a
            flip in each direction (``'horizontal'``, ``'vertical'``,
            ``'diagonal'``): the x / y components of surface normals.
        interpolation (str): ``'nearest'`` for label maps,
            ``'bilinear_valid'`` for continuous maps (bilinear weights
            renormalised over valid pixels only, see
            :func:`mmmtl.datasets.transforms.resize_valid`).
        unit_norm (bool): Whether valid vectors have unit length (normals);
            resizing renormalises them.
        gt_dtype (str): Torch dtype of the packed ground truth.
        default_loss (dict): Loss config used when a head gives none.
        metrics (tuple[MetricSpec]): Metrics the task reports.
        primary_metric (str): Metric used for ``mtl/delta_m``.
        encodings (dict[str, LabelEncoding]): How datasets may store the
            task's annotations (see :class:`LabelEncoding`).
        default_encoding (str): Encoding assumed when a dataset declares
            none. A task without ``encodings`` gets those of its kind (class
            ids; binary ``{0, 1}``...; float values).
        statistic (dict, optional): Config ``dict(type=<registered task
            statistic>, ...)`` of the statistic
            :class:`~mmmtl.evaluation.MultiTaskMetric` evaluates the task
            with by default (the evaluation protocol: ``absent_class`` of the
            mIoU, ``validity`` of normal pixels, saliency ``preset``, edge
            loss ``pos_weight`` / ``mode``). A metric overrides it per task
            with its ``statistics`` argument. A discrete task's statistic
            gets the class count from the metric. ``None``: the metric must
            be given one.
    """
    name: str
    kind: str
    results_key: str
    gt_field: str
    pred_field: str
    ignore_value: float
    pad_value: float
    channels: Optional[int]
    gt_channels: int
    classes_key: Optional[str]
    flip_negate_channels: Dict[str, Tuple[int, ...]]
    interpolation: str
    unit_norm: bool
    gt_dtype: str
    default_loss: dict
    metrics: Tuple[MetricSpec, ...]
    primary_metric: str
    extra: dict = field(default_factory=dict)
    encodings: Dict[str, LabelEncoding] = field(default_factory=dict)
    default_encoding: str = ''
    statistic: Optional[dict] = None

    def encoding(self, name: Optional[str] = None) -> LabelEncoding:
        """The :class:`LabelEncoding` called ``name`` (default: the task's
        ``default_encoding``); clear error for an unknown name."""
        encodings = self.encodings or _KIND_ENCODINGS[self.kind]
        name = name or self.default_encoding or next(iter(encodings))
        if name not in encodings:
            raise KeyError(f'task {self.name!r} has no label encoding '
                           f'{name!r}; known encodings: {sorted(encodings)}')
        return encodings[name]

    @property
    def is_discrete(self) -> bool:
        """Whether the task predicts class labels (softmax over classes)."""
        return self.kind == DISCRETE

    @property
    def is_binary(self) -> bool:
        """Whether the task predicts one sigmoid probability per pixel."""
        return self.kind == BINARY

    @property
    def is_continuous(self) -> bool:
        """Whether the task regresses real values."""
        return self.kind == CONTINUOUS

    def metric(self, name: str) -> MetricSpec:
        """Return the :class:`MetricSpec` called ``name``."""
        for spec in self.metrics:
            if spec.name == name:
                return spec
        raise KeyError(f'task {self.name!r} has no metric {name!r}; it '
                       f'reports {[m.name for m in self.metrics]}')

    def num_outputs(self, metainfo: Optional[dict] = None,
                    num_classes: Optional[int] = None) -> int:
        """Number of prediction channels.

        Args:
            metainfo (dict, optional): Dataset metainfo with the class names
                under :attr:`classes_key`.
            num_classes (int, optional): Explicit class count; wins over
                ``metainfo``.

        Returns:
            int: Output channels of the task's prediction layer.
        """
        if self.channels is not None:
            return self.channels
        if num_classes is not None:
            return int(num_classes)
        if metainfo is not None and metainfo.get(self.classes_key):
            return len(metainfo[self.classes_key])
        raise ValueError(
            f'task {self.name!r} needs its number of classes: give '
            f'num_classes for it or dataset metainfo with '
            f'{self.classes_key!r}')


# A horizontal flip mirrors x, a vertical one y, a diagonal one both.
_VECTOR_FLIP = {'horizontal': (0, ), 'vertical': (1, ), 'diagonal': (0, 1)}
_NO_FLIP: Dict[str, Tuple[int, ...]] = {}


def _confusion() -> dict:
    """mIoU / aAcc from the dataset confusion matrix; a class absent from
    prediction and ground truth counts as IoU 0 (the multi-task toolbox)."""
    return dict(type='ConfusionStatistic', absent_class='zero')


def _ce() -> dict:
    return dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                avg_non_ignore=True, loss_name='loss_ce')


TASKS: Dict[str, TaskSpec] = {
    spec.name: spec
    for spec in [
        TaskSpec(
            name='semseg', kind=DISCRETE, results_key='gt_seg_map',
            gt_field='gt_sem_seg', pred_field='pred_sem_seg',
            ignore_value=255, pad_value=255, channels=None, gt_channels=1,
            classes_key='classes', flip_negate_channels=_NO_FLIP,
            interpolation='nearest', unit_norm=False, gt_dtype='long',
            default_loss=_ce(),
            metrics=(MetricSpec('mIoU', True), MetricSpec('aAcc', True)),
            primary_metric='mIoU',
            encodings=_encodings(_IDS),
            default_encoding='ids',
            statistic=_confusion()),
        TaskSpec(
            name='depth', kind=CONTINUOUS, results_key='gt_depth_map',
            gt_field='gt_depth_map', pred_field='pred_depth_map',
            ignore_value=0.0, pad_value=0.0, channels=1, gt_channels=1,
            classes_key=None, flip_negate_channels=_NO_FLIP,
            interpolation='bilinear_valid', unit_norm=False,
            gt_dtype='float', default_loss=dict(type='DepthL1Loss'),
            metrics=(MetricSpec('rmse', False), MetricSpec('log_rmse', False),
                     MetricSpec('abs_rel', False),
                     MetricSpec('abs_err', False),
                     MetricSpec('delta1', True), MetricSpec('delta2', True),
                     MetricSpec('delta3', True)),
            primary_metric='rmse',
            encodings=_encodings(*_DEPTH_ENCODINGS),
            default_encoding='float',
            statistic=dict(type='DepthStatistic')),
        TaskSpec(
            name='normals', kind=CONTINUOUS, results_key='gt_normals',
            gt_field='gt_normals', pred_field='pred_normals',
            ignore_value=0.0, pad_value=0.0, channels=3, gt_channels=3,
            classes_key=None, flip_negate_channels=_VECTOR_FLIP,
            interpolation='bilinear_valid', unit_norm=True,
            gt_dtype='float', default_loss=dict(type='NormalsLoss'),
            metrics=(MetricSpec('mean', False), MetricSpec('median', False),
                     MetricSpec('rmse', False), MetricSpec('11.25', True),
                     MetricSpec('22.5', True), MetricSpec('30', True)),
            primary_metric='mean',
            encodings=_encodings(*_NORMALS_ENCODINGS),
            default_encoding='float',
            # valid: any non-zero component (MTI-Net / ATRC / InvPT)
            statistic=dict(type='NormalsStatistic', validity='any')),
        TaskSpec(
            name='edge', kind=BINARY, results_key='gt_edge_map',
            gt_field='gt_edge_map', pred_field='pred_edge_map',
            ignore_value=255, pad_value=255, channels=1, gt_channels=1,
            classes_key=None, flip_negate_channels=_NO_FLIP,
            interpolation='nearest', unit_norm=False, gt_dtype='long',
            default_loss=dict(type='BalancedBCELoss', pos_weight=0.95),
            metrics=(MetricSpec('loss', False), MetricSpec('odsF', True)),
            primary_metric='loss',
            encodings=_encodings(*_BINARY_ENCODINGS),
            default_encoding='binary',
            # balanced BCE of the probabilities (the toolbox's EdgeMeter)
            statistic=dict(type='EdgeLossStatistic', pos_weight=0.95,
                           mode='probability')),
        TaskSpec(
            name='saliency', kind=BINARY, results_key='gt_saliency',
            gt_field='gt_saliency', pred_field='pred_saliency',
            ignore_value=255, pad_value=255, channels=1, gt_channels=1,
            classes_key=None, flip_negate_channels=_NO_FLIP,
            interpolation='nearest', unit_norm=False, gt_dtype='long',
            default_loss=dict(type='BalancedBCELoss', pos_weight='auto'),
            metrics=(MetricSpec('maxF', True), MetricSpec('mIoU', True)),
            primary_metric='maxF',
            encodings=_encodings(*_BINARY_ENCODINGS),
            default_encoding='binary',
            # beta^2 = 0.3, thresholds 0.05..0.95, pooled counts (ATRC)
            statistic=dict(type='SaliencyStatistic', preset='atrc')),
        TaskSpec(
            name='human_parts', kind=DISCRETE, results_key='gt_human_parts',
            gt_field='gt_human_parts', pred_field='pred_human_parts',
            ignore_value=255, pad_value=255, channels=None, gt_channels=1,
            classes_key='human_parts_classes', flip_negate_channels=_NO_FLIP,
            interpolation='nearest', unit_norm=False, gt_dtype='long',
            default_loss=_ce(),
            metrics=(MetricSpec('mIoU', True), MetricSpec('aAcc', True)),
            primary_metric='mIoU',
            encodings=_encodings(_IDS),
            default_encoding='ids',
            statistic=_confusion()),
    ]
}


def get_task(name: str) -> TaskSpec:
    """Return the :class:`TaskSpec` of ``name``; clear error if unknown."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f'unknown task {name!r}; known tasks are '
                       f'{sorted(TASKS)}') from None


def check_tasks(tasks: Iterable[str], where: str = 'tasks') -> List[str]:
    """Validate a list of task names and return it as a list.

    Args:
        tasks (Iterable[str]): Task names.
        where (str): What the names belong to, used in the error message.

    Returns:
        list[str]: The task names, in the given order.
    """
    if isinstance(tasks, str):
        raise TypeError(f'{where} must be a list of task names, got the '
                        f'string {tasks!r}')
    tasks = list(tasks)
    if not tasks:
        raise ValueError(f'{where} is empty; give at least one of '
                         f'{sorted(TASKS)}')
    for name in tasks:
        if name not in TASKS:
            raise KeyError(f'unknown task {name!r} in {where}; known tasks '
                           f'are {sorted(TASKS)}')
    if len(set(tasks)) != len(tasks):
        raise ValueError(f'{where} lists a task twice: {tasks}')
    return tasks


def task_of_results_key(key: str) -> Optional[TaskSpec]:
    """Return the task whose map is stored under ``key`` in results, if any."""
    for spec in TASKS.values():
        if spec.results_key == key:
            return spec
    return None
