# Copyright (c) mmmtl contributors. All rights reserved.
"""Inference speed (images/second) of a config on the current device.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] \\
        [--num-iters 50] [--num-warmup 5] [--batch-size 1] [--shape H W]

Times the full test step — data pre-processing (normalisation, padding),
backbone, head, and post-processing of every task (resize to the image
size, argmax / sigmoid / normalisation) — on random uint8 images of the
config's ``crop_size`` (or ``--shape``), so data loading and disk speed do
not enter the number. The first ``--num-warmup`` iterations are excluded
(CUDA kernels selection, allocator warm-up); CUDA is synchronised around
every timed iteration. ``--repeat`` runs the measurement several times and
reports the mean and spread.
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmmtl.structures import MultiTaskDataSample


def spread(summary: dict) -> str:
    """``'mean +- std over N runs, '`` or, for one run, how to get it."""
    runs = summary['fps_runs']
    if len(runs) == 1:
        return 'one run, --repeat N for the spread over N runs; '
    return f'mean +- std {summary["fps_std"]:.2f} over {len(runs)} runs, '


def random_batch(batch_size: int, shape: Sequence[int],
                 seed: int = 0) -> dict:
    """A test batch of random uint8 images with image metainfo."""
    g = torch.Generator().manual_seed(seed)
    h, w = shape
    inputs = [torch.randint(0, 256, (3, h, w), generator=g,
                            dtype=torch.uint8) for _ in range(batch_size)]
    samples = [MultiTaskDataSample(metainfo=dict(
        ori_shape=(h, w), img_shape=(h, w))) for _ in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure(model: torch.nn.Module, batch_size: int, shape: Sequence[int],
            num_iters: int, num_warmup: int, progress: bool = True
            ) -> Dict[str, float]:
    """Images per second of ``model.test_step`` on random batches.

    Args:
        model (nn.Module): Model in eval mode on its device.
        batch_size (int): Images per step.
        shape (Sequence[int]): (H, W).
        num_iters (int): Timed iterations.
        num_warmup (int): Untimed iterations first.
        progress (bool): Show a progress bar.

    Returns:
        dict: ``fps`` (images/s), ``ms_per_image``, ``num_images``.
    """
    if num_iters < 1 or num_warmup < 0:
        raise ValueError(f'num_iters must be >= 1 and num_warmup >= 0, got '
                         f'{num_iters}, {num_warmup}')
    device = next(model.parameters()).device
    bar = ProgressBar(num_warmup + num_iters) if progress else None
    elapsed = 0.0
    with torch.no_grad():
        for index in range(num_warmup + num_iters):
            batch = random_batch(batch_size, shape, seed=index)
            synchronize(device)
            start = time.perf_counter()
            model.test_step(batch)
            synchronize(device)
            if index >= num_warmup:
                elapsed += time.perf_counter() - start
            if bar is not None:
                bar.update()
    images = num_iters * batch_size
    return dict(fps=images / elapsed, ms_per_image=1000 * elapsed / images,
                num_images=images)


def build_model(cfg: Config, checkpoint: Optional[str],
                device: str) -> torch.nn.Module:
    from mmmtl.apis import init_model
    return init_model(cfg, checkpoint, device=device)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Inference speed')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint (random weights if omitted; the '
                        'speed does not depend on them)')
    parser.add_argument('--num-iters', type=int, default=50)
    parser.add_argument('--num-warmup', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=1,
                        help='repeat the measurement and report mean/std')
    parser.add_argument('--shape', type=int, nargs=2,
                        help='H W (default: the config crop_size)')
    parser.add_argument('--device', default=None,
                        help="'cpu', 'cuda:0', ... (default: cuda if "
                        'available)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads')
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    shape = args.shape or cfg.get('crop_size')
    if not shape:
        raise ValueError('the config has no crop_size; give --shape H W')
    model = build_model(cfg, args.checkpoint, device)
    runs: List[float] = []
    for _ in range(args.repeat):
        result = measure(model, args.batch_size, shape, args.num_iters,
                         args.num_warmup)
        runs.append(result['fps'])
    summary = dict(config=args.config, device=str(device),
                   device_name=torch.cuda.get_device_name(device)
                   if str(device).startswith('cuda') else 'cpu',
                   threads=torch.get_num_threads(),
                   batch_size=args.batch_size, shape=list(shape),
                   num_iters=args.num_iters, num_warmup=args.num_warmup,
                   fps_runs=runs, fps_mean=float(np.mean(runs)),
                   fps_std=float(np.std(runs)))
    message = (f'\n{osp.basename(args.config)} on '
               f'{summary["device_name"]} ({summary["threads"]} threads), '
               f'batch {args.batch_size}, {shape[0]}x{shape[1]}: '
               f'{summary["fps_mean"]:.2f} images/s ({spread(summary)}'
               f'{args.num_iters} timed iterations per run, '
               f'{args.num_warmup} warm-up iterations excluded)')
    print(message)  # noqa: T201
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == '__main__':
    main()
