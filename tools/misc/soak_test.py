# Copyright (c) mmmtl contributors. All rights reserved.
"""Soak test: train for a long time and check that memory stays flat.

Not a unit test. It trains a config (by default for 60 minutes of wall
time), evaluates every ``--val-interval`` iterations, and records the
resident memory (RSS) of the training process and of its dataloader workers
every ``--sample-interval`` iterations and around each evaluation, plus the
number of live Python objects and tensors after each evaluation. At the end
it reports:

* ``growth``: median RSS of the last 10% of the samples over the median of
  the 10% right after warm-up (``--warmup`` fraction of the run, and at
  least past the first evaluation), minus one;
* ``slope``: least-squares RSS trend after warm-up, MiB per 1000 iterations;
* ``val_growth``: RSS after the last evaluation over RSS after the second
  one (the first allocates the evaluation's buffers), minus one, and the
  change in live objects/tensors across evaluations.

The run fails (exit code 1) when ``growth`` or ``val_growth`` exceeds
``--max-growth`` (5% by default). A JSON report and the raw samples are
written to ``<work-dir>/soak_report.json``.

Example (CPU, tiny backbone, 10 minutes)::

    python tools/misc/soak_test.py \
        configs/hps/hps_resnet18_2k_synthetic-128x160.py \
        --tiny --minutes 10 --val-interval 200 --work-dir work_dirs/soak
"""
import argparse
import gc
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.logging import MMLogger

PAGE = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096
MIB = 1024.0 * 1024.0


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Memory soak test')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', default='work_dirs/soak_test')
    parser.add_argument('--minutes', type=float, default=60.0,
                        help='wall-clock budget of the training')
    parser.add_argument('--iters', type=int, default=None,
                        help='stop after this many iterations instead')
    parser.add_argument('--val-interval', type=int, default=300)
    parser.add_argument('--sample-interval', type=int, default=10,
                        help='iterations between two RSS samples')
    parser.add_argument('--warmup', type=float, default=0.2,
                        help='fraction of the samples treated as warm-up')
    parser.add_argument('--max-growth', type=float, default=0.05)
    parser.add_argument('--tiny', action='store_true',
                        help='shrink the ResNet/HPS widths (CPU runs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _children(pid: int) -> List[int]:
    """Direct and indirect child processes of ``pid`` (Linux ``/proc``)."""
    parents: Dict[int, List[int]] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(')') + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mib(pid: int) -> float:
    """Resident set size of one process in MiB (0 if it is gone)."""
    try:
        with open(f'/proc/{pid}/statm') as f:
            return int(f.read().split()[1]) * PAGE / MIB
    except (OSError, ValueError, IndexError):
        return 0.0


class SoakMonitor(Hook):
    """Samples RSS during training and object counts around evaluations."""
    priority = 'LOWEST'

    def __init__(self, sample_interval: int, deadline: Optional[float]):
        self.sample_interval = sample_interval
        self.deadline = deadline
        self.samples: List[dict] = []
        self.evals: List[dict] = []
        self.start = time.time()

    def _sample(self, runner, event: str) -> dict:
        pid = os.getpid()
        workers = sum(rss_mib(p) for p in _children(pid))
        record = dict(iter=runner.iter, time=time.time() - self.start,
                      event=event, rss_main=rss_mib(pid),
                      rss_workers=workers)
        record['rss_total'] = record['rss_main'] + workers
        self.samples.append(record)
        return record

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if (runner.iter + 1) % self.sample_interval == 0:
            self._sample(runner, 'train')
        if self.deadline is not None and time.time() > self.deadline:
            runner.train_loop.stop_training = True

    def before_val(self, runner) -> None:
        self._sample(runner, 'before_val')

    def after_val(self, runner) -> None:
        gc.collect()
        record = self._sample(runner, 'after_val')
        import warnings

        import torch
        objects = gc.get_objects()
        record['objects'] = len(objects)
        with warnings.catch_warnings():  # isinstance on deprecated proxies
            warnings.simplefilter('ignore')
            record['tensors'] = sum(1 for o in objects
                                    if isinstance(o, torch.Tensor))
        del objects
        self.evals.append(record)


def analyse(samples: List[dict], evals: List[dict],
            warmup: float) -> dict:
    """Growth figures of a soak run (see the module docstring)."""
    train = [s for s in samples if s['event'] == 'train']
    if len(train) < 10:
        raise RuntimeError(f'only {len(train)} RSS samples: run longer or '
                           'lower --sample-interval')
    start = int(len(train) * warmup)
    if len(evals) >= 1:  # warm-up lasts at least until the first evaluation
        after_first = [i for i, s in enumerate(train)
                       if s['iter'] > evals[0]['iter']]
        if after_first and after_first[0] < len(train) - 5:
            start = max(start, after_first[0])
    steady = train[start:]
    window = max(1, len(steady) // 10)
    base = float(np.median([s['rss_total'] for s in steady[:window]]))
    final = float(np.median([s['rss_total'] for s in steady[-window:]]))
    iters = np.array([s['iter'] for s in steady], dtype=np.float64)
    rss = np.array([s['rss_total'] for s in steady])
    slope = float(np.polyfit(iters, rss, 1)[0] * 1000) if len(
        set(iters)) > 1 else 0.0
    result = dict(
        samples=len(train), warmup_iter=steady[0]['iter'],
        last_iter=train[-1]['iter'], baseline_mib=base, final_mib=final,
        growth=final / base - 1, slope_mib_per_kiter=slope,
        peak_mib=float(max(s['rss_total'] for s in samples)),
        evaluations=len(evals))
    if len(evals) >= 3:
        ref, last = evals[1], evals[-1]
        result.update(
            val_growth=last['rss_total'] / ref['rss_total'] - 1,
            objects_change=last['objects'] - ref['objects'],
            tensors_change=last['tensors'] - ref['tensors'])
    return result


def shrink(cfg: Config) -> None:
    """Tiny widths for CPU soak runs (same code paths, less compute)."""
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    head = cfg.model.decode_head
    head.update(in_channels=[8, 16, 32, 64], channels=16)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.tiny:
        shrink(cfg)
    cfg.work_dir = args.work_dir
    cfg.train_cfg.update(
        max_iters=args.iters or 10**9, val_interval=args.val_interval)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.checkpoint.update(interval=args.val_interval,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(50, args.sample_interval)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    from mmmtl.engine.runner import MultiTaskRunner
    deadline = None if args.iters else time.time() + args.minutes * 60
    monitor = SoakMonitor(args.sample_interval, deadline)
    runner = MultiTaskRunner.from_cfg(cfg)  # checks tasks, adds safeguards
    runner.register_hook(monitor)
    runner.train()
    result = analyse(monitor.samples, monitor.evals, args.warmup)
    failed = result['growth'] > args.max_growth or result.get(
        'val_growth', 0.0) > args.max_growth
    result['passed'] = not failed
    logger = MMLogger.get_current_instance()
    for key, value in result.items():
        logger.info(f'soak {key}: {value}')
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'soak_report.json'), 'w') as f:
        json.dump(dict(result=result, samples=monitor.samples,
                       evaluations=monitor.evals), f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
