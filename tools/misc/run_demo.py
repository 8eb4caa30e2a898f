# Copyright (c) mmmtl contributors. All rights reserved.
"""The CPU demo behind ``make demo``.

Trains the default multi-task config on the synthetic dataset (generated on
first use), evaluates it on the validation split, writes a panel (image,
ground truth and prediction of every task) for the first validation images
and prints a table of per-task metrics next to a trivial predictor (the
majority class / mean depth / mean normal / positive rate of the training
set), plus ``mtl/delta_m`` against the single-task references of the config.
"""
import argparse
import os.path as osp
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS, METRICS

from mmmtl.models.decode_heads import valid_mask
from mmmtl.structures import TASKS, MultiTaskDataSample
from mmmtl.utils import check_task_consistency, setup_runtime

DEFAULT_CONFIG = 'configs/hps/hps_resnet18_500it_synthetic-128x160.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='mmmtl CPU demo')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--num-panels', type=int, default=4,
                        help='validation images drawn as panels')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args()


def train_statistics(dataset, tasks, num_samples: int = 200) -> Dict:
    """Constant predictions of a trivial predictor, from training labels.

    Discrete tasks: the most frequent class; binary tasks: the positive
    rate; depth: the mean; normals: the normalised mean vector.
    """
    sums: Dict[str, torch.Tensor] = {}
    counts: Dict[str, float] = {t: 0.0 for t in tasks}
    for index in range(min(num_samples, len(dataset))):
        sample = dataset[index]['data_samples']
        for task in tasks:
            spec = TASKS[task]
            gt = sample.get(spec.gt_field).data
            if spec.is_discrete:
                valid = gt[gt != spec.ignore_value]
                part = torch.bincount(valid, minlength=256)[:256].double()
            else:
                valid = valid_mask(gt[None], spec)[0, 0]
                values = gt[:, valid].double()
                part = values.sum(dim=1)
                counts[task] += values.shape[1]
            sums[task] = part if task not in sums else sums[task] + part
    stats: Dict[str, object] = {}
    for task in tasks:
        spec = TASKS[task]
        if spec.is_discrete:
            stats[task] = int(sums[task].argmax())
            continue
        mean = (sums[task] / max(counts[task], 1.0)).float()
        stats[task] = F.normalize(mean, dim=0) if spec.unit_norm else mean
    return stats


def constant_prediction(spec, value, shape) -> torch.Tensor:
    """(C, H, W) prediction filled with a trivial constant."""
    h, w = shape
    if spec.is_discrete:
        return torch.full((1, h, w), value, dtype=torch.long)
    return value.view(-1, 1, 1).expand(-1, h, w).clone()


def trivial_metrics(cfg: Config, tasks, metric_cfg: dict) -> Dict[str, float]:
    """Metrics of the trivial predictor on the validation split."""
    train_cfg = cfg.train_dataloader.dataset.copy()
    train_cfg.pipeline = cfg.test_dataloader.dataset.pipeline
    train_set = DATASETS.build(train_cfg)
    val_set = DATASETS.build(cfg.test_dataloader.dataset)
    stats = train_statistics(train_set, tasks)
    metric = METRICS.build(metric_cfg)
    metric.dataset_meta = val_set.metainfo
    for index in range(len(val_set)):
        sample: MultiTaskDataSample = val_set[index]['data_samples']
        shape = sample.ori_shape
        for task in tasks:
            sample.set_pred(task, constant_prediction(TASKS[task],
                                                      stats[task], shape))
        metric.process({}, [sample.to_dict()])
    return metric.evaluate(len(val_set))


def format_table(metrics: Dict[str, float],
                 trivial: Dict[str, float]) -> str:
    """Plain-text table: metric, trained model, trivial predictor."""
    lines = [f'{"metric":<22}{"model":>12}{"trivial":>12}', '-' * 46]
    for key, value in metrics.items():
        if '/' not in key:
            continue
        ref = trivial.get(key)
        ref_text = f'{ref:12.4f}' if isinstance(ref, float) else ' ' * 12
        lines.append(f'{key:<22}{value:12.4f}{ref_text}')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.launcher = 'none'
    # The demo evaluates once, after training (runner.test below); the
    # train loop would otherwise also validate at its last iteration.
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.visualization = dict(
        type='MultiTaskVisualizationHook', num_images=args.num_panels,
        draw=True, show_dir=osp.abspath(osp.join(args.work_dir, 'panels')))
    tasks = check_task_consistency(cfg)
    setup_runtime(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    init_default_scope('mmseg')
    baseline_cfg = dict(cfg.test_evaluator)
    baseline_cfg.pop('single_task_baselines', None)
    trivial = trivial_metrics(cfg, tasks, baseline_cfg)
    logger = MMLogger.get_current_instance()
    logger.info('\n' + format_table(metrics, trivial))
    logger.info(f'panels of the first {args.num_panels} validation images: '
                f'{osp.join(args.work_dir, "panels")}')


if __name__ == '__main__':
    main()
