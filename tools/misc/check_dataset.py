# Copyright (c) mmmtl contributors. All rights reserved.
"""Scan every sample of a config's datasets and report all problems at once.

Every image and every task annotation of the train/val/test datasets
(including the target and the auxiliary images of CompL's
``CompositeDataset``) is read and checked with the loaders used in training:
missing or unreadable files, annotation sizes that differ from the image,
labels outside the classes and not ignore, normals that are not unit
length, negative depth, files that do not fit the label encoding their
dataset declares, ... Unlike
training, which stops at the first bad file, the scan goes on and lists
every problem; NaN/Inf pixels (treated as invalid in training) and
annotations without any valid pixel are reported as warnings. The config's
task consistency (tasks and class counts of head, datasets and metrics)
is checked too.

Exit code: 0 when no error was found (warnings allowed unless ``--strict``),
1 otherwise.

Example::

    python tools/misc/check_dataset.py \
        configs/hps/hps_resnet18_2k_synthetic-128x160.py --out report.json
"""
import argparse
import inspect
import json
import logging
import sys
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

SPLITS = ('train', 'val', 'test')
WRAPPERS = ('ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check every sample of a config\'s datasets')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--splits', nargs='+', choices=SPLITS,
                        default=list(SPLITS),
                        help='dataloaders whose datasets are scanned')
    parser.add_argument('--max-samples', type=int, default=None,
                        help='scan at most this many samples per dataset')
    parser.add_argument('--strict', action='store_true',
                        help='warnings also make the exit code non-zero')
    parser.add_argument('--out', help='also write the report as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


class _Collector(logging.Handler):
    """Keeps the warnings the loaders log while one file is read."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def leaf_dataset_cfgs(dataset_cfg: dict) -> List[Tuple[dict, bool]]:
    """The concrete dataset configs inside wrappers, each with whether only
    its images are used.

    ``ConcatDataset``/``RepeatDataset``/``ClassBalancedDataset`` are
    unwrapped. A ``CompositeDataset`` (CompL) yields its target dataset
    (images and annotations) and its auxiliary dataset (images only): its
    ``aux_dataset``, or by default the target config without
    ``label_fraction`` (the auxiliary task uses every image).
    """
    kind = dataset_cfg.get('type')
    if kind in WRAPPERS:
        inner = dataset_cfg.get('datasets') or [dataset_cfg.get('dataset')]
        return [leaf for cfg in inner for leaf in leaf_dataset_cfgs(cfg)]
    if kind == 'CompositeDataset':
        target = dict(dataset_cfg['dataset'])
        aux = dataset_cfg.get('aux_dataset')
        if aux is None:
            aux = {k: v for k, v in target.items()
                   if k not in ('label_fraction', 'label_fraction_seed')}
        return leaf_dataset_cfgs(target) + [
            (cfg, True) for cfg, _ in leaf_dataset_cfgs(dict(aux))]
    return [(dataset_cfg, False)]


def _scan_cfg(dataset_cfg: dict) -> dict:
    """A dataset config that reads files only: no pipeline, no generation,
    no start-up file check (missing files are reported per sample)."""
    from mmseg.registry import DATASETS
    cfg = dict(dataset_cfg)
    cfg['pipeline'] = []
    cls = DATASETS.get(cfg['type'])
    names = {name for klass in getattr(cls, '__mro__', ())
             if '__init__' in vars(klass)
             for name in inspect.signature(klass.__init__).parameters}
    if 'check_files' in names:
        cfg['check_files'] = False
    if 'generate_if_missing' in names:
        cfg['generate_if_missing'] = False
    return cfg


def check_sample(info: dict,
                 images_only: bool = False) -> Dict[str, List[str]]:
    """Read and check one sample's image and each task's annotation.

    Args:
        info (dict): ``dataset.get_data_info(i)`` (``img_path``,
            ``ann_info``, ``num_classes``).
        images_only (bool): Check the image only (auxiliary images of
            self-supervised tasks have no annotations).

    Returns:
        dict: ``errors`` and ``warnings`` (messages naming the file).
    """
    from mmmtl.datasets.transforms.loading import (LoadMultiTaskAnnotations,
                                                   LoadMultiTaskImageFromFile)
    from mmmtl.structures import get_task
    errors: List[str] = []
    warnings: List[str] = []
    collector = _Collector()
    logger = MMLogger.get_current_instance()
    logger.addHandler(collector)
    try:
        image_shape = None
        try:
            loaded = LoadMultiTaskImageFromFile().transform(
                dict(img_path=info['img_path']))
            image_shape = loaded['img_shape']
            if np.issubdtype(loaded['img'].dtype, np.floating) and \
                    not np.isfinite(loaded['img']).all():
                bad = int((~np.isfinite(loaded['img'])).sum())
                errors.append(f'{info["img_path"]}: {bad} NaN/Inf image '
                              'values (training would propagate them)')
        except Exception as err:  # every failure is a finding
            errors.append(_message(err, info['img_path']))
        annotations = {} if images_only else (info.get('ann_info') or {})
        for task, ann in annotations.items():
            loader = LoadMultiTaskAnnotations(tasks=[task])
            results = dict(img_path=info['img_path'], ann_info={task: ann},
                           num_classes=info.get('num_classes'))
            try:
                spec = get_task(task)
                if image_shape is None:  # check the values at least
                    image_shape = loader._load_one(ann, spec).shape[:2]
                results['img_shape'] = image_shape
                loader.transform(results)
            except Exception as err:
                errors.append(_message(err, ann.get('path', task)))
                continue
            if not _any_valid(results[spec.results_key], spec):
                warnings.append(f'{ann["path"]}: no valid {task} pixel')
        warnings.extend(collector.messages)
    finally:
        logger.removeHandler(collector)
    return dict(errors=errors, warnings=warnings)


def _message(err: Exception, where: str) -> str:
    text = str(err)
    return text if where in text else f'{where}: {type(err).__name__}: {text}'


def _any_valid(array: np.ndarray, spec) -> bool:
    if spec.is_continuous:
        if array.ndim == 3:
            return bool(np.any(np.any(array != 0, axis=-1)))
        return bool(np.any(array != spec.ignore_value))
    return bool(np.any(array != spec.ignore_value))


def check_config(cfg: Config, splits: Sequence[str] = SPLITS,
                 max_samples: Optional[int] = None) -> dict:
    """Scan the datasets of ``cfg``'s dataloaders.

    Args:
        cfg (Config): Full config.
        splits (Sequence[str]): Which dataloaders (``train``/``val``/``test``).
        max_samples (int, optional): Limit per dataset.

    Returns:
        dict: ``errors`` / ``warnings`` (lists of messages prefixed with the
        split and sample id), ``datasets`` (per dataset: name, samples
        scanned, error and warning counts).
    """
    from mmmtl.utils import check_task_consistency
    report = dict(errors=[], warnings=[], datasets=[])
    try:
        check_task_consistency(cfg)
    except Exception as err:
        report['errors'].append(f'config: {err}')
    seen = set()
    checked_images: Set[str] = set()
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        for dataset_cfg, images_only in leaf_dataset_cfgs(loader['dataset']):
            key = repr(sorted((k, repr(v)) for k, v in dataset_cfg.items()
                              if k != 'pipeline')) + repr(images_only)
            if key in seen:
                continue
            seen.add(key)
            scan_dataset(split, dataset_cfg, report, max_samples,
                         images_only, checked_images)
    return report


def scan_dataset(split: str, dataset_cfg: dict, report: dict,
                 max_samples: Optional[int] = None,
                 images_only: bool = False,
                 checked_images: Optional[Set[str]] = None) -> None:
    """Check every sample of one dataset config, adding to ``report``.

    Args:
        split (str): Dataloader the dataset belongs to (for messages).
        dataset_cfg (dict): A concrete (unwrapped) dataset config.
        report (dict): ``errors``, ``warnings`` and ``datasets`` lists.
        max_samples (int, optional): Limit.
        images_only (bool): Check the images only (auxiliary images).
        checked_images (set[str], optional): Image files already checked by
            an ``images_only`` scan or to skip in one (shared across the
            datasets of a config).
    """
    from mmseg.registry import DATASETS
    role = ' (auxiliary images)' if images_only else ''
    name = f'{split}:{dataset_cfg.get("type")}{role}'
    summary = dict(name=name, samples=0, errors=0, warnings=0)
    if images_only:
        summary['already_checked'] = 0
    report['datasets'].append(summary)
    try:
        dataset = DATASETS.build(_scan_cfg(dataset_cfg))
    except Exception as err:
        summary['errors'] += 1
        report['errors'].append(f'{name}: cannot build the dataset: {err}')
        return
    count = len(dataset) if max_samples is None else min(
        max_samples, len(dataset))
    for index in range(count):
        info = dataset.get_data_info(index)
        sample = info.get('sample_id', index)
        if checked_images is not None:
            if images_only and info['img_path'] in checked_images:
                summary['already_checked'] += 1
                continue
            checked_images.add(info['img_path'])
        found = check_sample(info, images_only)
        summary['samples'] += 1
        summary['errors'] += len(found['errors'])
        summary['warnings'] += len(found['warnings'])
        report['errors'] += [f'{name}[{sample}] {m}' for m in found['errors']]
        report['warnings'] += [
            f'{name}[{sample}] {m}' for m in found['warnings']]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg['custom_imports'])
    import mmmtl  # noqa: F401  (registers the modules)
    logger = MMLogger.get_instance('mmmtl_check_dataset')
    report = check_config(cfg, args.splits, args.max_samples)
    for summary in report['datasets']:
        seen = (f' (+{summary["already_checked"]} already checked)'
                if summary.get('already_checked') else '')
        logger.info(f'{summary["name"]}: {summary["samples"]} samples'
                    f'{seen}, {summary["errors"]} errors, '
                    f'{summary["warnings"]} warnings')
    for message in report['warnings']:
        logger.warning(f'WARNING {message}')
    for message in report['errors']:
        logger.error(f'ERROR {message}')
    failed = bool(report['errors']) or (args.strict
                                        and bool(report['warnings']))
    logger.info(f'{len(report["errors"])} errors, {len(report["warnings"])} '
                f'warnings: {"FAILED" if failed else "OK"}')
    if args.out:
        from mmmtl.utils import atomic_write

        def write(tmp: str) -> None:
            with open(tmp, 'w') as f:
                json.dump(report, f, indent=2)
        atomic_write(args.out, write)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
