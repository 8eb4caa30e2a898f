# Copyright (c) mmmtl contributors. All rights reserved.
"""Rerunnable study: configs x seeds, mean and std, paired differences.

Written for the CompL label-fraction study and used as well for the
multi-task optimisation study of ``docs/en/user_guides/loss_weighting.md``
(several ``--metric`` keys, ``--delta-m``, ``--cfg-options``).

The CompL study of the docs (``configs/compl/README.md``) is::

    python tools/analysis_tools/label_fraction_study.py \\
        configs/compl/stl-depth-lf10_resnet18_2k_synthetic-128x160.py \\
        configs/compl/compl-depth-densecl-lf10_resnet18_2k_synthetic-128x160.py \\
        --seeds 0 1 2 --iters 500 --metric depth/rmse \\
        --work-dir work_dirs/compl_lf10_study

Every (config, seed) pair is one ordinary training (``tools/train.py`` in a
subprocess) on a config written to ``<work-dir>/<config>/seed<k>/`` with:

* ``randomness.seed = k`` and the label subset drawn with the same seed
  (``label_fraction_seed = k`` wherever the config has one), so the runs of
  one seed share their labelled images and differ only in the method, and
  the seeds differ in both the subset and the initialisation;
* with ``--iters``, a schedule shortened proportionally: ``max_iters``,
  every iteration-based scheduler's ``begin``/``end`` and the ``interval``
  of every iteration-based custom hook (the loss-weighting hooks' windows)
  scaled by ``iters / max_iters`` (warm-up and decay keep their shape);
  validation and a checkpoint at the last iteration;
* ``--cfg-options`` merged into every run's config (e.g. a smaller image
  size for a short study), after the seed and the schedule.

The metrics of the final validation are read from the run's
``vis_data/scalars.json`` and saved as ``result.json`` next to the config;
a rerun skips the pairs that have one, so an interrupted study continues.
``summary.json`` and ``summary.md`` (mean, sample std and the per-seed
values of every metric, plus the mean paired difference to the first
config for every ``--metric``) are rewritten after every run. With
``--delta-m`` they also hold, per seed, the multi-task gain ``delta_m``
of every config relative to the first config of the same seed, over the
primary metric of every task in the results (direction from the task
table): ``delta_m = 1/T sum_t (-1)^{l_t} (M_t - M_ref,t) / M_ref,t * 100``.
"""
import argparse
import glob
import json
import math
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from mmmtl.evaluation.statistics import delta_m, primary_directions
from mmmtl.structures.tasks import get_task
from mmmtl.utils.atomic_io import atomic_write_bytes

DELTA_M = 'delta_m vs first (%)'

TRAIN_SCRIPT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                        'train.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train configs x seeds and report mean/std metrics')
    parser.add_argument('configs', nargs='+', help='config files; the first '
                        'is the reference of the paired differences')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int,
                        help='shorten every schedule to this many '
                        'iterations (default: the configs\' own)')
    parser.add_argument('--metric', nargs='+', default=['depth/rmse'],
                        help='metric(s) of the table and the paired '
                        'differences')
    parser.add_argument('--delta-m', action='store_true',
                        help='add delta_m relative to the first config '
                        '(paired by seed) over the tasks\' primary metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='key=value overrides of every run\'s config')
    parser.add_argument('--work-dir', default='work_dirs/label_fraction_study')
    return parser.parse_args()


def config_name(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def scale_schedule(cfg: Config, iters: int) -> None:
    """Shorten an iteration-based schedule to ``iters`` iterations.

    Raises:
        ValueError: If the config trains by epochs (no ``max_iters``).
    """
    max_iters = cfg.train_cfg.get('max_iters')
    if max_iters is None:
        raise ValueError(
            f'--iters needs an iteration-based train_cfg with max_iters; '
            f'got train_cfg={dict(cfg.train_cfg)}')
    factor = iters / max_iters

    def scaled(boundary: int) -> int:
        # positive boundaries stay positive: a short warm-up keeps >= 1
        # iteration and the scheduler after it starts where it ends
        return max(1, int(round(boundary * factor))) if boundary > 0 else 0

    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if scheduler.get('by_epoch', True):
            raise ValueError(f'--iters cannot shorten the epoch-based '
                             f'scheduler {dict(scheduler)}')
        begin = scaled(scheduler.get('begin', 0))
        if 'begin' in scheduler:
            scheduler['begin'] = begin
        if 'end' in scheduler:
            scheduler['end'] = max(scaled(scheduler['end']), begin + 1)
    for hook in cfg.get('custom_hooks') or []:
        if 'interval' in hook and not hook.get('by_epoch', True):
            hook['interval'] = scaled(hook['interval'])
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.default_hooks.checkpoint.interval = iters


def set_label_fraction_seed(node, seed: int) -> None:
    """Set every ``label_fraction_seed`` in a (nested) dataset config."""
    if isinstance(node, dict):
        if 'label_fraction_seed' in node:
            node['label_fraction_seed'] = seed
        for value in node.values():
            set_label_fraction_seed(value, seed)
    elif isinstance(node, (list, tuple)):
        for value in node:
            set_label_fraction_seed(value, seed)


def run_config(path: str, seed: int, iters: Optional[int],
               work_dir: str, options: Optional[dict] = None) -> Config:
    """The config of one run: the seed everywhere, the optional schedule
    and the ``--cfg-options``."""
    cfg = Config.fromfile(path)
    cfg.randomness = dict(seed=seed)
    set_label_fraction_seed(cfg.train_dataloader, seed)
    if iters is not None:
        scale_schedule(cfg, iters)
    if options:
        cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def final_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the last validation logged in ``work_dir``.

    Raises:
        FileNotFoundError: If the run logged no validation metrics.
    """
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    for log in reversed(logs):
        with open(log) as f:
            records = [json.loads(line) for line in f if line.strip()]
        evals = [r for r in records if any('/' in key for key in r)]
        if evals:
            return {k: v for k, v in evals[-1].items() if '/' in k}
    raise FileNotFoundError(f'no validation metrics in {work_dir}/*/'
                            f'vis_data/scalars.json; see the run\'s log')


def mean_std(values: List[float]) -> Dict[str, float]:
    """Mean and sample standard deviation (ddof=1; 0 for one value)."""
    mean = sum(values) / len(values)
    var = (sum((v - mean)**2 for v in values) / (len(values) - 1)
           if len(values) > 1 else 0.0)
    return dict(mean=mean, std=math.sqrt(var), values=values)


def primary_keys(metrics: Dict[str, float]) -> Dict[str, str]:
    """Task -> ``'<task>/<primary metric>'`` for every task whose primary
    metric (task table) is among ``metrics``' keys."""
    keys = {}
    for key in metrics:
        task, _, name = key.partition('/')
        try:
            spec = get_task(task)
        except (KeyError, ValueError):
            continue
        if name == spec.primary_metric:
            keys[task] = key
    return keys


def relative_delta_m(values: Dict[str, float],
                     reference: Dict[str, float]) -> float:
    """``delta_m`` (%) of one run relative to a reference run.

    Raises:
        ValueError: If the reference has no task primary metric.
    """
    keys = primary_keys(reference)
    if not keys:
        raise ValueError(f'--delta-m: the reference run has no primary '
                         f'task metric among {sorted(reference)}')
    directions = primary_directions(
        {task: key.partition('/')[2] for task, key in keys.items()})
    return delta_m({t: values[k] for t, k in keys.items()},
                   {t: reference[k] for t, k in keys.items()}, directions)


def summarise(results: Dict[str, Dict[int, Dict[str, float]]],
              metric: Union[str, Sequence[str]],
              with_delta_m: bool = False) -> Dict:
    """Per-config statistics and paired differences to the first config
    (for every metric in ``metric``; with ``with_delta_m`` also
    ``delta_m`` relative to the first config, per seed)."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    summary = {}
    reference = next(iter(results.values()))
    for name, runs in results.items():
        seeds = sorted(runs)
        keys = sorted(set.intersection(*(set(runs[s]) for s in seeds)))
        entry = {key: mean_std([runs[s][key] for s in seeds])
                 for key in keys}
        for key in metrics:
            paired = [runs[s][key] - reference[s][key] for s in seeds
                      if s in reference and key in runs[s]
                      and key in reference[s]]
            if paired:
                entry[f'{key} - reference'] = mean_std(paired)
        if with_delta_m:
            gains = [relative_delta_m(runs[s], reference[s]) for s in seeds
                     if s in reference]
            if gains:
                entry[DELTA_M] = mean_std(gains)
        summary[name] = dict(seeds=seeds, metrics=entry)
    return summary


def format_markdown(summary: Dict, metric: str) -> str:
    lines = [f'| config | seeds | {metric} (mean ± std) | per seed '
             f'| Δ to first (paired) |', '|---|---|---|---|---|']
    for name, entry in summary.items():
        stats = entry['metrics'].get(metric)
        if stats is None:
            continue
        paired = entry['metrics'].get(f'{metric} - reference')
        diff = (f'{paired["mean"]:+.4f} ± {paired["std"]:.4f}'
                if paired else '')
        values = ', '.join(f'{v:.4f}' for v in stats['values'])
        lines.append(f'| {name} | {len(entry["seeds"])} | '
                     f'{stats["mean"]:.4f} ± {stats["std"]:.4f} | {values} '
                     f'| {diff} |')
    return '\n'.join(lines) + '\n'


def format_study_table(summary: Dict, metrics: Sequence[str]) -> str:
    """Two markdown tables: mean ± std of every metric (and ``delta_m``)
    per config, and the paired differences to the first config."""
    columns = list(metrics)
    if any(DELTA_M in e['metrics'] for e in summary.values()):
        columns.append(DELTA_M)
    lines = ['| config | seeds | ' + ' | '.join(columns) + ' |',
             '|---|---|' + '---|' * len(columns)]
    diffs = ['| config | ' + ' | '.join(f'Δ {m}' for m in metrics) + ' |',
             '|---|' + '---|' * len(metrics)]
    for name, entry in summary.items():
        cells, diff_cells = [], []
        for key in columns:
            stats = entry['metrics'].get(key)
            cells.append('' if stats is None else
                         f'{stats["mean"]:.4f} ± {stats["std"]:.4f}')
        for key in metrics:
            paired = entry['metrics'].get(f'{key} - reference')
            diff_cells.append('' if paired is None else
                              f'{paired["mean"]:+.4f} ± {paired["std"]:.4f}')
        lines.append(f'| {name} | {len(entry["seeds"])} | ' +
                     ' | '.join(cells) + ' |')
        diffs.append(f'| {name} | ' + ' | '.join(diff_cells) + ' |')
    return '\n'.join(lines) + '\n\n' + '\n'.join(diffs) + '\n'


def write_text(path: str, text: str) -> None:
    """Write ``text`` atomically (a crash never leaves half a file)."""
    atomic_write_bytes(text.encode(), path)


def run_study(args: argparse.Namespace) -> Dict:
    logger = MMLogger.get_instance('label_fraction_study')
    results: Dict[str, Dict[int, Dict[str, float]]] = {}
    for seed in args.seeds:
        for path in args.configs:
            name = config_name(path)
            run_dir = osp.join(args.work_dir, name, f'seed{seed}')
            result_file = osp.join(run_dir, 'result.json')
            if not osp.exists(result_file):
                cfg = run_config(path, seed, args.iters, run_dir,
                                 getattr(args, 'cfg_options', None))
                cfg_file = osp.join(run_dir, f'{name}.py')
                write_text(cfg_file, cfg.pretty_text)
                logger.info(f'training {name} with seed {seed} in {run_dir}')
                status = subprocess.run([sys.executable, TRAIN_SCRIPT,
                                         cfg_file, '--work-dir', run_dir])
                if status.returncode != 0:
                    raise RuntimeError(
                        f'training {cfg_file} (seed {seed}) failed with exit '
                        f'status {status.returncode}; its log is under '
                        f'{run_dir}. Rerun the study to continue.')
                write_text(result_file,
                           json.dumps(final_metrics(run_dir), indent=2))
            with open(result_file) as f:
                results.setdefault(name, {})[seed] = json.load(f)
            metrics = [args.metric] if isinstance(args.metric, str) \
                else list(args.metric)
            with_delta_m = getattr(args, 'delta_m', False)
            summary = summarise(results, metrics, with_delta_m)
            write_text(osp.join(args.work_dir, 'summary.json'),
                       json.dumps(summary, indent=2))
            if len(metrics) == 1 and not with_delta_m:
                table = format_markdown(summary, metrics[0])
            else:
                table = format_study_table(summary, metrics)
            write_text(osp.join(args.work_dir, 'summary.md'), table)
    logger.info('\n' + table)
    return summary


def main() -> None:
    run_study(parse_args())


if __name__ == '__main__':
    main()
