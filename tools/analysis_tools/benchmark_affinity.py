# Copyright (c) mmmtl contributors. All rights reserved.
"""Peak memory and time of CTAL's dense vs memory-efficient affinity path.

Runs the :class:`~mmmtl.models.layers.cross_task_affinity.CrossTaskAffinity`
module (projection, affinity, grouped-conv fusion, diffusion, blend) forward
and backward with both paths, side by side, and checks that they agree.

On CPU each measurement runs in a fresh subprocess and the peak is the
growth of the process's peak resident memory (``VmHWM``, reset just before
the first forward) over its resident memory at that moment; on CUDA it is
``torch.cuda.max_memory_allocated`` above the allocation before the first
forward. Times are medians of ``--repeats`` forward+backward iterations
after one warm-up.

Example (the issue's target setting: 1/4 of 288x384 = 72x96, 3 tasks,
batch 2)::

    python tools/analysis_tools/benchmark_affinity.py \
        --grids 36x48 72x96 --tasks 3 --batch 2
"""
import argparse
import multiprocessing as mp
import statistics
import time
from typing import Dict, List, Tuple

import torch

from mmmtl.models.layers.cross_task_affinity import CrossTaskAffinity

TASK_NAMES = ['semseg', 'depth', 'normals', 'edge', 'saliency',
              'human_parts']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--grids', nargs='+', default=['36x48', '72x96'],
                        help='distillation grids HxW (1/8 and 1/4 of '
                        '288x384 by default)')
    parser.add_argument('--tasks', type=int, default=3)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--channels', type=int, default=64)
    parser.add_argument('--kernel-size', type=int, default=3)
    parser.add_argument('--chunk-size', type=int, default=256)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def _status_bytes(field: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in bytes.
    """
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _reset_peak_rss() -> None:
    """Reset the process's peak resident size (Linux >= 4.0), so that the
    peak of the imports does not hide the peak of the measured code."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def _measure(args: argparse.Namespace, grid: Tuple[int, int],
             memory_efficient: bool) -> Dict:
    """Build, run forward+backward, return peak bytes, times, results."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    tasks = TASK_NAMES[:args.tasks]
    module = CrossTaskAffinity(tasks, args.channels, grid,
                               kernel_size=args.kernel_size,
                               memory_efficient=memory_efficient,
                               chunk_size=args.chunk_size).to(device)
    feats = {
        t: torch.randn(args.batch, args.channels, *grid, device=device,
                       requires_grad=True) for t in tasks
    }
    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        _reset_peak_rss()
        base = _status_bytes('VmRSS')
    times: List[float] = []
    out = None
    for i in range(args.repeats + 1):
        module.zero_grad(set_to_none=True)
        for f in feats.values():
            f.grad = None
        start = time.perf_counter()
        out = module(feats)
        sum((o * o).sum() for o in out.values()).backward()
        if cuda:
            torch.cuda.synchronize()
        if i > 0:
            times.append(time.perf_counter() - start)
    if cuda:
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _status_bytes('VmHWM') - base
    grads = {n: p.grad.detach().cpu() for n, p in module.named_parameters()}
    grads.update({f'input.{t}': f.grad.detach().cpu()
                  for t, f in feats.items()})
    return dict(peak=max(peak, 0), time=statistics.median(times),
                out={t: o.detach().cpu() for t, o in out.items()},
                grads=grads)


def _worker(queue: mp.Queue, args, grid, memory_efficient) -> None:
    result = _measure(args, grid, memory_efficient)
    # plain numpy arrays: torch's shared-memory tensors would not outlive
    # this process
    for key in ('out', 'grads'):
        result[key] = {k: v.numpy() for k, v in result[key].items()}
    queue.put(result)


def measure(args: argparse.Namespace, grid: Tuple[int, int],
            memory_efficient: bool) -> Dict:
    """Measure in a fresh process on CPU (clean peak RSS), inline on GPU."""
    if args.device != 'cpu':
        return _measure(args, grid, memory_efficient)
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker,
                       args=(queue, args, grid, memory_efficient))
    proc.start()
    result = queue.get()
    proc.join()
    for key in ('out', 'grads'):
        result[key] = {k: torch.from_numpy(v) for k, v in result[key].items()}
    return result


def max_relative_error(a: Dict[str, torch.Tensor],
                       b: Dict[str, torch.Tensor]) -> float:
    """Largest ``|a - b| / max|b|`` over the tensors of two dicts."""
    return max(((a[k] - b[k]).abs().max() /
                b[k].abs().max().clamp_min(1e-30)).item() for k in b)


def main() -> None:
    args = parse_args()
    header = (f'{"grid":>8} {"HW":>6} {"dense MB":>9} {"chunked MB":>10} '
              f'{"mem ratio":>9} {"dense s":>8} {"chunked s":>9} '
              f'{"time ratio":>10} {"max rel err out/grad":>21}')
    print(f'CTAL affinity path, {args.tasks} tasks, batch {args.batch}, '
          f'C={args.channels}, f={args.kernel_size}, chunk '
          f'{args.chunk_size}, device {args.device}, threads {args.threads}, '
          f'float32, forward+backward')
    print(header)
    for spec in args.grids:
        grid = tuple(int(v) for v in spec.lower().split('x'))
        dense = measure(args, grid, False)
        chunked = measure(args, grid, True)
        err_out = max_relative_error(chunked['out'], dense['out'])
        err_grad = max_relative_error(chunked['grads'], dense['grads'])
        mb = 1024 ** 2
        print(f'{spec:>8} {grid[0] * grid[1]:>6} {dense["peak"] / mb:>9.1f} '
              f'{chunked["peak"] / mb:>10.1f} '
              f'{chunked["peak"] / max(dense["peak"], 1):>9.3f} '
              f'{dense["time"]:>8.3f} {chunked["time"]:>9.3f} '
              f'{chunked["time"] / dense["time"]:>10.3f} '
              f'{err_out:>10.1e}/{err_grad:.1e}')


if __name__ == '__main__':
    main()
