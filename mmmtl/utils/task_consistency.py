# Copyright (c) mmmtl contributors. All rights reserved.
"""Build-time check that model, datasets and metrics agree on the tasks."""
from typing import Dict, List, Optional

from mmengine.config import Config
from mmseg.registry import DATASETS

from mmmtl.structures import TASKS, check_tasks

WRAPPERS = ('CompositeDataset', 'ConcatDataset', 'RepeatDataset',
            'ClassBalancedDataset')


def _leaf_dataset(dataset_cfg: dict) -> dict:
    """The first concrete dataset config inside wrappers."""
    while dataset_cfg.get('type') in WRAPPERS:
        dataset_cfg = dataset_cfg.get('dataset') or \
            dataset_cfg.get('datasets')[0]
    return dataset_cfg


def dataset_class_counts(dataset_cfg: Optional[dict]) -> Dict[str, int]:
    """Class count of each discrete task of a dataset config.

    Read from the dataset class without building it: its
    ``metainfo_from_config`` (see :class:`~mmmtl.datasets.
    BaseMultiTaskDataset`) or its ``METAINFO`` with the config's
    ``metainfo`` overrides.

    Args:
        dataset_cfg (dict, optional): A dataloader's ``dataset`` config.

    Returns:
        dict[str, int]: Task -> number of class names (discrete tasks only).
    """
    if not dataset_cfg:
        return {}
    dataset_cfg = _leaf_dataset(dataset_cfg)
    cls = DATASETS.get(dataset_cfg.get('type')) if dataset_cfg.get(
        'type') else None
    if cls is None:
        return {}
    if hasattr(cls, 'metainfo_from_config'):
        meta = cls.metainfo_from_config(dataset_cfg)
    else:
        meta = dict(getattr(cls, 'METAINFO', {}) or {})
        meta.update(dataset_cfg.get('metainfo') or {})
    counts = {}
    for name, spec in TASKS.items():
        if spec.is_discrete and meta.get(spec.classes_key):
            counts[name] = len(meta[spec.classes_key])
    return counts


def _class_count_problems(head: dict, model_tasks: List[str],
                          cfg: Config) -> List[str]:
    """Where the head's class counts differ from the datasets'."""
    head_counts = head.get('num_classes') or {}
    if not isinstance(head_counts, dict):  # a single-task head
        head_counts = {model_tasks[0]: head_counts}
    problems = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        counts = dataset_class_counts(loader.get('dataset'))
        for task in model_tasks:
            if not TASKS[task].is_discrete or task not in counts:
                continue
            predicted = head_counts.get(task)
            if predicted is not None and int(predicted) != counts[task]:
                problems.append(
                    f'model.decode_head.num_classes.{task} is {predicted} '
                    f'but {split}_dataloader.dataset '
                    f'({_leaf_dataset(loader["dataset"]).get("type")}) has '
                    f'{counts[task]} {TASKS[task].classes_key}')
    return problems


def _dataset_tasks(dataset_cfg: Optional[dict]) -> Optional[List[str]]:
    """Tasks a dataset config will load (explicit or the class's default)."""
    if not dataset_cfg:
        return None
    if dataset_cfg.get('type') in WRAPPERS:
        return _dataset_tasks(_leaf_dataset(dataset_cfg))
    if dataset_cfg.get('tasks') is not None:
        return list(dataset_cfg['tasks'])
    cls = DATASETS.get(dataset_cfg.get('type'))
    tasks = getattr(cls, 'METAINFO', {}).get('tasks') if cls else None
    return list(tasks) if tasks else None


def _metric_tasks(evaluator_cfg, dataset_tasks: Optional[List[str]]
                  ) -> Optional[List[str]]:
    """Tasks a ``MultiTaskMetric`` will evaluate: its own, or by default
    the tasks of the dataset it evaluates (``dataset_meta['tasks']``)."""
    if not evaluator_cfg:
        return None
    cfgs = evaluator_cfg if isinstance(evaluator_cfg, list) else [
        evaluator_cfg]
    for cfg in cfgs:
        if cfg.get('type') == 'MultiTaskMetric':
            tasks = cfg.get('tasks')
            return list(tasks) if tasks is not None else dataset_tasks
    return None


def check_task_consistency(cfg: Config) -> List[str]:
    """Raise if the head, the datasets and the metrics disagree.

    The model's ``tasks`` (``model.tasks``, else the decode head's) are the
    reference. Every dataloader's dataset
    must provide at least them (a dataset with extra tasks is fine if the
    config restricts it with ``tasks=``, but then it is an error to omit
    one the head predicts), and the validation / test ``MultiTaskMetric``
    must evaluate exactly them. For each discrete task, the head's
    ``num_classes`` must equal the number of class names of every
    dataloader's dataset (a head with fewer outputs would fail inside the
    loss, one with more only at the first validation).

    Args:
        cfg (Config): A full config.

    Returns:
        list[str]: The model's tasks.
    """
    head = cfg.model.get('decode_head', {})
    head_tasks = head.get('tasks') if head.get('tasks') is not None else (
        [head['task']] if head.get('task') is not None else None)
    given = cfg.model.get('tasks')
    if given is None and head_tasks is None:
        raise ValueError('the config must set `model.tasks` (or '
                         '`model.decode_head.tasks`, `task` for a '
                         'SingleTaskHead)')
    if given is not None and head_tasks is not None and \
            list(given) != list(head_tasks):
        raise ValueError(f'model.decode_head predicts tasks '
                         f'{list(head_tasks)} but model.tasks is '
                         f'{list(given)}: give the list once, in model.tasks')
    model_tasks = check_tasks(
        given if given is not None else head_tasks,
        'model.tasks' if given is not None else 'model.decode_head.tasks')
    found: Dict[str, Optional[List[str]]] = {}
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            found[f'{split}_dataloader.dataset'] = _dataset_tasks(
                loader.get('dataset'))
    for split in ('val', 'test'):
        found[f'{split}_evaluator'] = _metric_tasks(
            cfg.get(f'{split}_evaluator'),
            found.get(f'{split}_dataloader.dataset'))
    problems = []
    for where, tasks in found.items():
        if tasks is None:
            continue
        check_tasks(tasks, where)
        missing = [t for t in model_tasks if t not in tasks]
        extra = [t for t in tasks if t not in model_tasks]
        if missing or (extra and where.endswith('evaluator')):
            problems.append(f'{where} has tasks {tasks} (missing '
                            f'{missing}, extra {extra})')
    if problems:
        raise ValueError(
            f'the tasks of the config disagree: the model predicts '
            f'{model_tasks}, but ' + '; '.join(problems) +
            '. Set the same `tasks` on the head, the datasets and '
            'MultiTaskMetric.')
    problems = _class_count_problems(head, model_tasks, cfg)
    if problems:
        raise ValueError(
            'the class counts of the config disagree: ' + '; '.join(
                problems) + '. Set model.decode_head.num_classes to the '
            "dataset's number of classes (or change the dataset's "
            'metainfo).')
    return model_tasks
