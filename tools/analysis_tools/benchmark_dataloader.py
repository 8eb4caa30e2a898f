# Copyright (c) mmmtl contributors. All rights reserved.
"""Images per second of a config's training pipeline, per data worker.

Loads and transforms ``--num-images`` training samples in this process
(``workers 0``: the rate of one worker) and through the config's
``train_dataloader`` with each ``--workers`` count (batches of the config's
batch size, after one warm-up batch), then prints how many workers keep a
GPU busy for a given iteration time: a GPU step of ``t`` seconds on batches
of ``b`` images needs ``b / t`` images per second, i.e.
``ceil(b / (t * rate_per_worker))`` workers, if the workers scale (the
measured rates show whether they do on this machine).

Example::

    python tools/analysis_tools/benchmark_dataloader.py \
        configs/hps/hps_resnet18_500it_synthetic-128x160.py \
        --workers 1 2 --num-images 200 --gpu-iter-times 0.04 0.1
"""
import argparse
import math
import time
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS

import mmmtl  # noqa: F401  (registers the datasets and transforms)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config')
    parser.add_argument('--num-images', type=int, default=200,
                        help='training samples per measurement')
    parser.add_argument('--workers', type=int, nargs='*', default=[1, 2],
                        help='DataLoader worker counts to measure (the '
                        'in-process rate is always measured)')
    parser.add_argument('--gpu-iter-times', type=float, nargs='*',
                        default=[0.04, 0.1, 0.25],
                        help='GPU compute seconds per iteration to size the '
                        'worker count for')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. '
                        'train_dataloader.dataset.data_root=data/x')
    args = parser.parse_args(argv)
    if args.num_images < 1:
        parser.error(f'--num-images must be >= 1, got {args.num_images}')
    if any(w < 1 for w in args.workers):
        parser.error(f'--workers must be >= 1, got {args.workers}')
    if any(t <= 0 for t in args.gpu_iter_times):
        parser.error(f'--gpu-iter-times must be > 0, got '
                     f'{args.gpu_iter_times}')
    return args


def in_process_rate(loader_cfg: dict, num_images: int) -> float:
    """Images per second of the pipeline run in this process (one worker's
    work: loading, decoding, transforms and packing)."""
    dataset = DATASETS.build(loader_cfg['dataset'])
    dataset[0]  # warm-up (lazy init, file-system caches)
    start = time.perf_counter()
    for i in range(num_images):
        dataset[(i + 1) % len(dataset)]
    return num_images / (time.perf_counter() - start)


def loader_rate(loader_cfg: dict, workers: int, num_images: int) -> float:
    """Images per second delivered by the config's DataLoader with
    ``workers`` worker processes (collation included)."""
    cfg = dict(loader_cfg)
    cfg.update(num_workers=workers, persistent_workers=False,
               pin_memory=False)
    loader = Runner.build_dataloader(cfg, seed=0)
    iterator = iter(loader)
    next(iterator)  # warm-up: starts the workers
    count, start = 0, time.perf_counter()
    while count < num_images:
        batch = next(iterator)
        count += len(batch['inputs'])
    return count / (time.perf_counter() - start)


def workers_needed(batch_size: int, gpu_time: float, per_worker: float) -> int:
    """Workers that deliver ``batch_size`` images every ``gpu_time`` seconds
    at ``per_worker`` images/s each."""
    return max(1, math.ceil(batch_size / (gpu_time * per_worker)))


def format_report(config: str, batch_size: int, rates: Dict[int, float],
                  gpu_times: List[float]) -> str:
    """The printed table: rates per worker count and workers needed."""
    per_worker = rates[0]
    lines = [f'{config}: training pipeline, batch size {batch_size}',
             f'{"workers":>8} {"images/s":>10} {"per worker":>11}']
    for workers, rate in sorted(rates.items()):
        label = 'in-proc' if workers == 0 else str(workers)
        lines.append(f'{label:>8} {rate:>10.1f} '
                     f'{rate / max(workers, 1):>11.1f}')
    lines.append(f'{"GPU s/iter":>10} {"images/s needed":>16} '
                 f'{"workers needed":>15}')
    for t in gpu_times:
        lines.append(f'{t:>10.3f} {batch_size / t:>16.1f} '
                     f'{workers_needed(batch_size, t, per_worker):>15}')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader_cfg = cfg.train_dataloader.to_dict()
    rates = {0: in_process_rate(loader_cfg, args.num_images)}
    for workers in args.workers:
        rates[workers] = loader_rate(loader_cfg, workers, args.num_images)
    report = format_report(args.config, loader_cfg['batch_size'], rates,
                           args.gpu_iter_times)
    print(report)
    return report


if __name__ == '__main__':
    main()
