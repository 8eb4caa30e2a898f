# Copyright (c) mmmtl contributors. All rights reserved.
"""The CPU demo behind ``make demo``.

Trains the default multi-task config on the synthetic dataset (generated
first if it is missing), evaluates it on the validation split, writes a
panel (image, ground truth and prediction of every task) for the first
validation images and prints a table of per-task metrics next to a trivial
predictor (the majority class / mean depth / mean normal / positive rate of
the training set), plus ``mtl/delta_m`` against the single-task references of the config.

The console shows a short header, a progress bar with the speed and the time
left, the results and the next commands to try; MMEngine's full log (config,
hooks, losses) goes to the log file only.
"""
import argparse
import logging
import os.path as osp
import sys
import time
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS

from mmmtl.datasets import generate_synthetic_dataset
from mmmtl.engine.hooks.progress_bar_hook import format_duration
from mmmtl.engine.runner import MultiTaskRunner
from mmmtl.structures import TASKS, MultiTaskDataSample, valid_mask
from mmmtl.utils import check_task_consistency

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
    header = (f'{"metric":<22}{"trained model":>16}'
              f'{"trivial predictor":>20}')
    lines = [header, '-' * len(header)]
    for key, value in metrics.items():
        if '/' not in key:
            continue
        ref = trivial.get(key)
        ref_text = f'{ref:20.4f}' if isinstance(ref, float) else ''
        lines.append(f'{key:<22}{value:16.4f}{ref_text}')
    return '\n'.join(lines)


class DemoRunner(MultiTaskRunner):
    """A runner whose console shows warnings only.

    Everything MMEngine logs at INFO (the environment, the full config,
    the hook list, per-iteration losses) still goes to the log file; the
    console gets the demo's own header, progress bar and results.
    """

    def build_logger(self, *args, **kwargs) -> MMLogger:
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.WARNING)
                handler.addFilter(hide_internal_deprecations)
        return logger


#: MMEngine 0.10 warns about its own deprecated file clients whenever its
#: CheckpointHook starts, whatever the config says; nothing a user can act on.
INTERNAL_DEPRECATIONS = ('"FileClient" will be deprecated',
                         '"HardDiskBackend" is the alias of "LocalBackend"')


def hide_internal_deprecations(record: logging.LogRecord) -> bool:
    """Console filter: drop MMEngine's internal deprecation warnings (they
    stay in the log file)."""
    message = record.getMessage()
    return not any(text in message for text in INTERNAL_DEPRECATIONS)


def shown_path(path: str) -> str:
    """``path`` relative to the current folder when it is inside it."""
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


def header(cfg: Config, args: argparse.Namespace) -> str:
    """What the demo will do, in a few lines."""
    dataset = cfg.train_dataloader.dataset
    gen = dataset.get('generator_cfg') or {}
    root = dataset.data_root
    size = (f'{gen.get("num_train", "?")} training + '
            f'{gen.get("num_val", "?")} validation rooms of '
            f'{gen.get("height", "?")}x{gen.get("width", "?")} px')
    data = (f'use the synthetic dataset in {root}/' if osp.isdir(root) else
            f'generate the synthetic dataset into {root}/ ({size}; a few '
            'seconds to minutes)')
    return '\n'.join([
        'mmmtl demo: one network for semseg, depth, normals, edge and '
        'saliency, on the CPU',
        f'  1. {data}',
        f'  2. train {args.config}',
        f'     ({cfg.train_cfg.max_iters} iterations of batch '
        f'{cfg.train_dataloader.batch_size}) into {args.work_dir}/',
        '  3. evaluate it on the validation split, next to a trivial '
        'predictor, and draw panels',
        'The expected time is measured on this machine from the first '
        'iterations and printed below; the bar shows the speed and the time '
        'left.',
    ])


def generate_data(cfg: Config) -> None:
    """Generate the config's synthetic dataset, with a progress bar, if it
    is missing: the demo's first step. (Configs themselves never generate
    data: a missing ``data_root`` is an error naming it.)"""
    dataset = cfg.train_dataloader.dataset
    root = dataset.data_root
    if osp.exists(root) or dataset.get('type') != 'SyntheticMultiTaskDataset':
        return
    start = time.monotonic()
    generate_synthetic_dataset(root, progress=True,
                               **(dataset.get('generator_cfg') or {}))
    print(f'\nSynthetic dataset written to {root}/ in '
          f'{format_duration(time.monotonic() - start)}.', flush=True)


def next_steps(cfg_path: str, work_dir: str, image: str,
               python: str) -> str:
    """The commands to try after the demo."""
    ckpt_file = osp.join(work_dir, 'last_checkpoint')
    ckpt = osp.join(work_dir, 'iter_<n>.pth')
    if osp.isfile(ckpt_file):
        with open(ckpt_file) as f:
            ckpt = shown_path(f.read().strip())
    return '\n'.join([
        'Next, try (see docs/en/get_started.md):',
        '  # predictions of every task for one image (or a folder)',
        f'  {python} tools/infer.py {image} \\',
        f'      {cfg_path} {ckpt} --out-dir outputs',
        '  # training curves: total loss and each task\'s loss',
        f'  {python} tools/analysis_tools/analyze_logs.py {work_dir} \\',
        f"      --keys loss '*.unweighted' --out {work_dir}/losses.png",
        '  # parameters and FLOPs of each part of the model',
        f'  {python} tools/analysis_tools/get_flops.py {cfg_path}',
    ])


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
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        dict(type='ProgressBarHook', train=True)]
    tasks = check_task_consistency(cfg)
    print(header(cfg, args), flush=True)
    generate_data(cfg)
    runner = DemoRunner.from_cfg(cfg)  # applies the safeguards
    logger = MMLogger.get_current_instance()
    log_file = osp.join(runner.log_dir, f'{runner.timestamp}.log')
    print(f'Full log (config, hooks, losses every '
          f'{cfg.default_hooks.logger.interval} iterations): '
          f'{shown_path(log_file)}', flush=True)
    start = time.monotonic()
    runner.train()
    train_time = time.monotonic() - start
    print(f'Training took {format_duration(train_time)}. Evaluating on the '
          f'{len(runner.test_dataloader.dataset)} validation images:',
          flush=True)
    start = time.monotonic()
    logger.info('Per-class results below are those of the trained model.')
    metrics = runner.test()
    init_default_scope('mmseg')
    baseline_cfg = dict(cfg.test_evaluator)
    baseline_cfg.pop('single_task_baselines', None)
    logger.info('Per-class results below are those of the trivial '
                'predictor (majority class, mean depth, mean normal, '
                'positive rate of the training set).')
    trivial = trivial_metrics(cfg, tasks, baseline_cfg)
    eval_time = time.monotonic() - start
    table = format_table(metrics, trivial)
    logger.info('\n' + table)
    panels = shown_path(osp.join(args.work_dir, 'panels'))
    image = runner.test_dataloader.dataset.get_data_info(0)['img_path']
    python = shown_path(sys.executable)
    print('\n'.join([
        '',
        f'Results on the {len(runner.test_dataloader.dataset)} validation '
        'images (trivial predictor: majority class, mean depth, mean '
        'normal, positive rate of the training set):',
        table,
        'mtl/delta_m: mean relative gain (%) over the single-task models '
        'of the config (negative: worse than single-task).',
        '',
        f'Training {format_duration(train_time)}, evaluation '
        f'{format_duration(eval_time)}.',
        f'Panels (image, ground truth, prediction of every task) of the '
        f'first {args.num_panels} validation images: {panels}/',
        f'Per-class IoU and the full log: {shown_path(log_file)}',
        '',
        next_steps(shown_path(osp.abspath(args.config)), args.work_dir,
                   shown_path(image), python),
    ]), flush=True)


if __name__ == '__main__':
    main()
