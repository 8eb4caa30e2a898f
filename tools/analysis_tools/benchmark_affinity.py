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

The last columns compare the ratios (chunked / dense) with the targets of
the device: on the CPU peak memory <= 0.25x and time <= 1.5x the dense
path's (at 1/4 of 288x384, 3 tasks, batch 2), on a GPU peak memory <= 0.15x
and time <= 1.0x (at 1/4 of 288x384, 3 tasks, batch 8).

TF32: on Ampere and later GPUs PyTorch runs float32 convolutions in TF32 by
default, so the dense path's grouped convolution rounds its inputs to 10
mantissa bits while the chunked path's matrix products do not; the two then
differ by about 1e-4 relative. ``--no-tf32`` switches TF32 off (exact
comparison); ``--tf32`` switches it on for matrix products too (speed).

Examples (the targets' settings)::

    python tools/analysis_tools/benchmark_affinity.py \
        --grids 36x48 72x96 --tasks 3 --batch 2 --device cpu
    python tools/analysis_tools/benchmark_affinity.py \
        --grids 72x96 --tasks 3 --batch 8 --device cuda --no-tf32
"""
import argparse
import contextlib
import multiprocessing as mp
import statistics
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from mmmtl.models.layers.affinity import auto_chunk_size
from mmmtl.models.layers.cross_task_affinity import CrossTaskAffinity
from mmmtl.utils.precision import tf32_disabled

#: (memory ratio, time ratio) targets of the chunked path per device type.
TARGETS = {'cpu': (0.25, 1.5), 'cuda': (0.15, 1.0)}

TASK_NAMES = ['semseg', 'depth', 'normals', 'edge', 'saliency',
              'human_parts']


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--grids', nargs='+', default=['36x48', '72x96'],
                        help='distillation grids HxW (1/8 and 1/4 of '
                        '288x384 by default)')
    parser.add_argument('--tasks', type=int, default=3)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--channels', type=int, default=64)
    parser.add_argument('--kernel-size', type=int, default=3)
    parser.add_argument('--chunk-size', type=chunk_size_arg, default='auto',
                        help="anchor rows per block, or 'auto' (from the "
                        '512 MiB budget)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--inline', action='store_true',
                        help='CPU: measure in this process (quick; the peak '
                        'is then less exact than in a fresh process)')
    tf32 = parser.add_mutually_exclusive_group()
    tf32.add_argument('--no-tf32', dest='tf32', action='store_false',
                      help='full float32 matrix products and convolutions '
                      '(exact comparison)')
    tf32.add_argument('--tf32', dest='tf32', action='store_true',
                      help='TF32 for matrix products and convolutions')
    parser.set_defaults(tf32=None)  # None: PyTorch's defaults
    return parser.parse_args(argv)


def chunk_size_arg(value: str) -> Union[int, str]:
    """``--chunk-size``: a positive int or ``auto``."""
    if value == 'auto':
        return value
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive int or 'auto', got {value!r}")
    return int(value)


@contextlib.contextmanager
def tf32_mode(enabled: Optional[bool]):
    """``None``: PyTorch's defaults; False: no TF32; True: TF32 for matrix
    products and cuDNN convolutions."""
    if enabled is None:
        yield
    elif not enabled:
        with tf32_disabled():
            yield
    else:
        old = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision('high')
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(old)


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
    with tf32_mode(args.tf32):
        out = _run(module, feats, args.repeats, cuda, times)
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


def _run(module: CrossTaskAffinity, feats: Dict[str, torch.Tensor],
         repeats: int, cuda: bool, times: List[float]) -> Dict:
    """One warm-up and ``repeats`` timed forward+backward passes; appends
    the times, returns the last outputs (gradients stay in ``.grad``)."""
    out = None
    for i in range(repeats + 1):
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
    return out


def _worker(queue: mp.Queue, args, grid, memory_efficient) -> None:
    result = _measure(args, grid, memory_efficient)
    # plain numpy arrays: torch's shared-memory tensors would not outlive
    # this process
    for key in ('out', 'grads'):
        result[key] = {k: v.numpy() for k, v in result[key].items()}
    queue.put(result)


def measure(args: argparse.Namespace, grid: Tuple[int, int],
            memory_efficient: bool) -> Dict:
    """Measure in a fresh process on CPU (clean peak RSS), inline on GPU or
    with ``--inline``."""
    if args.device != 'cpu' or args.inline:
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


def chunk_rows(args: argparse.Namespace, grid: Tuple[int, int]) -> int:
    """Anchor rows per block the chunked path uses on ``grid``."""
    if args.chunk_size != 'auto':
        return min(args.chunk_size, grid[0] * grid[1])
    return auto_chunk_size(args.batch, args.tasks, args.tasks, args.channels,
                           args.kernel_size, grid[0] * grid[1], 4)


def format_row(spec: str, grid: Tuple[int, int], rows: int, dense: Dict,
               chunked: Dict, device_type: str) -> str:
    """One table row: peaks, times, ratios, errors, targets met."""
    mem_ratio = chunked['peak'] / max(dense['peak'], 1)
    time_ratio = chunked['time'] / dense['time']
    mem_target, time_target = TARGETS.get(device_type, TARGETS['cuda'])
    err_out = max_relative_error(chunked['out'], dense['out'])
    err_grad = max_relative_error(chunked['grads'], dense['grads'])
    mb = 1024 ** 2
    return (f'{spec:>8} {grid[0] * grid[1]:>6} {rows:>6} '
            f'{dense["peak"] / mb:>9.1f} {chunked["peak"] / mb:>10.1f} '
            f'{mem_ratio:>9.3f} {dense["time"]:>8.3f} '
            f'{chunked["time"]:>9.3f} {time_ratio:>10.3f} '
            f'{err_out:>10.1e}/{err_grad:.1e} '
            f'{"yes" if mem_ratio <= mem_target else "NO":>4}/'
            f'{"yes" if time_ratio <= time_target else "NO"}')


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    args = parse_args(argv)
    device_type = torch.device(args.device).type
    mem_target, time_target = TARGETS.get(device_type, TARGETS['cuda'])
    tf32 = {None: "PyTorch's TF32 defaults", False: 'TF32 off',
            True: 'TF32 on'}[args.tf32]
    lines = [
        f'CTAL affinity path, {args.tasks} tasks, batch {args.batch}, '
        f'C={args.channels}, f={args.kernel_size}, chunk {args.chunk_size}, '
        f'device {args.device}, threads {args.threads}, float32 ({tf32}), '
        'forward+backward; ratios = chunked / dense; targets on '
        f'{device_type}: memory <= {mem_target}, time <= {time_target}',
        f'{"grid":>8} {"HW":>6} {"rows":>6} {"dense MB":>9} '
        f'{"chunked MB":>10} {"mem ratio":>9} {"dense s":>8} '
        f'{"chunked s":>9} {"time ratio":>10} {"max rel err out/grad":>21} '
        'met mem/time'
    ]
    print(lines[0])
    print(lines[1])
    for spec in args.grids:
        grid = tuple(int(v) for v in spec.lower().split('x'))
        dense = measure(args, grid, False)
        chunked = measure(args, grid, True)
        lines.append(format_row(spec, grid, chunk_rows(args, grid), dense,
                                chunked, device_type))
        print(lines[-1])
    return lines


if __name__ == '__main__':
    main()
