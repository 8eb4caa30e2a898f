# Copyright (c) mmmtl contributors. All rights reserved.
"""Build-time check that model, datasets and metrics agree on the tasks."""
from typing import Dict, List, Optional

from mmengine.config import Config
from mmseg.registry import DATASETS

from mmmtl.structures import check_tasks


def _dataset_tasks(dataset_cfg: Optional[dict]) -> Optional[List[str]]:
    """Tasks a dataset config will load (explicit or the class's default)."""
    if not dataset_cfg:
        return None
    if dataset_cfg.get('type') in ('CompositeDataset', 'ConcatDataset',
                                   'RepeatDataset',
                                   'ClassBalancedDataset'):
        inner = dataset_cfg.get('dataset') or dataset_cfg.get('datasets')[0]
        return _dataset_tasks(inner)
    if dataset_cfg.get('tasks') is not None:
        return list(dataset_cfg['tasks'])
    cls = DATASETS.get(dataset_cfg.get('type'))
    tasks = getattr(cls, 'METAINFO', {}).get('tasks') if cls else None
    return list(tasks) if tasks else None


def _metric_tasks(evaluator_cfg) -> Optional[List[str]]:
    if not evaluator_cfg:
        return None
    cfgs = evaluator_cfg if isinstance(evaluator_cfg, list) else [
        evaluator_cfg]
    for cfg in cfgs:
        if cfg.get('type') == 'MultiTaskMetric':
            return list(cfg['tasks'])
    return None


def check_task_consistency(cfg: Config) -> List[str]:
    """Raise if the head's, the datasets' and the metrics' tasks disagree.

    The decode head's ``tasks`` are the reference. Every dataloader's dataset
    must provide at least them (a dataset with extra tasks is fine if the
    config restricts it with ``tasks=``, but then it is an error to omit
    one the head predicts), and the validation / test ``MultiTaskMetric``
    must evaluate exactly them.

    Args:
        cfg (Config): A full config.

    Returns:
        list[str]: The model's tasks.
    """
    head = cfg.model.get('decode_head', {})
    if head.get('tasks') is None and head.get('task') is None:
        raise ValueError('model.decode_head must set `tasks` (or `task` for '
                         'a SingleTaskHead)')
    model_tasks = check_tasks(
        head['tasks'] if head.get('tasks') is not None else [head['task']],
        'model.decode_head.tasks')
    found: Dict[str, Optional[List[str]]] = {}
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            found[f'{split}_dataloader.dataset'] = _dataset_tasks(
                loader.get('dataset'))
    for split in ('val', 'test'):
        found[f'{split}_evaluator'] = _metric_tasks(
            cfg.get(f'{split}_evaluator'))
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
            f'the tasks of the config disagree: model.decode_head predicts '
            f'{model_tasks}, but ' + '; '.join(problems) +
            '. Set the same `tasks` on the head, the datasets and '
            'MultiTaskMetric.')
    return model_tasks
