# Copyright (c) mmmtl contributors. All rights reserved.
"""Cost of multi-task optimisation methods relative to equal weighting.

For 2, 3 and 5 tasks (semseg, depth, normals, edge, saliency, in that order)
on the HRNet-18 NYUD-v2 HPS config (``configs/hps/hps_hrnet18_20k_nyud-
480x640.py``, random weights, shrunk to fit a CPU: small input, small
batch), one training iteration through
:class:`~mmmtl.engine.optim_wrappers.MultiTaskOptimWrapper` (forward, the
method's backward passes, SGD step) is timed for every method and mode,
side by side with equal weighting (``EW``) in the same run, and reported as
a ratio to EW's time (EW timed in the same process, its iterations
interleaved with the method's, so that both see the same machine load) and
to EW's peak memory.

Peak memory on CPU is measured as in ``benchmark_heads.py``: every
(tasks, method, mode) runs in a fresh subprocess, and the peak is the
growth of the peak resident size (``VmHWM``, reset after the model and
inputs are built) over the resident size at that moment. On CUDA it is
``torch.cuda.max_memory_allocated`` above the allocation before the first
iteration.

Example (about 5 minutes on 2 CPU cores)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_mtl_methods.py \
        --shape 64 96 --batch 2 --repeats 3
"""
import argparse
import importlib.util
import json
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Sequence

import torch
from mmengine.logging import MMLogger

_HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(_HERE))
CONFIG = osp.join(REPO, 'configs/hps/hps_hrnet18_20k_nyud-480x640.py')
ALL_TASKS = ['semseg', 'depth', 'normals', 'edge', 'saliency']
#: (method, mode) measured by default; ``EW`` is the reference.
DEFAULT_RUNS = ['EW', 'FAMO', 'PCGrad:representation', 'PCGrad:parameter',
                'NashMTL:representation', 'MGDA:representation']
_MARK = '@@benchmark_mtl_methods_result@@'


def _load_tool(name: str):
    """Import a sibling script of ``tools/analysis_tools``."""
    spec = importlib.util.spec_from_file_location(
        f'_mmmtl_{name}', osp.join(_HERE, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _iteration(model, wrapper, inputs, samples, cuda: bool) -> float:
    """Seconds of one training iteration (forward, backward, step)."""
    start = time.perf_counter()
    with wrapper.optim_context(model):
        losses = model(inputs, samples, mode='loss')
    parsed, _ = model.parse_losses(losses)
    wrapper.update_params(parsed)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(num_tasks: int, method: str, mode: str, shape: Sequence[int],
            batch: int, repeats: int, device: str = 'cpu',
            threads: int = 1) -> Dict:
    """Peak bytes and time of one method, and EW's time (this process).

    First the method alone runs ``repeats + 1`` iterations for its peak
    memory; then the method and EW (a second wrapper of the same model)
    alternate for ``repeats`` iterations each, so both times are read under
    the same machine load, and the fastest of each is reported (the reading
    least disturbed by other processes on a shared machine).

    Args:
        num_tasks (int): The first ``num_tasks`` of :data:`ALL_TASKS`.
        method (str): Method type (``MTL_METHODS``).
        mode (str): ``'representation'`` or ``'parameter'``.
        shape (Sequence[int]): Input (H, W).
        batch (int): Batch size.
        repeats (int): Timed iterations after one warm-up.
        device (str): ``'cpu'`` or a CUDA device.
        threads (int): Torch CPU threads.

    Returns:
        dict: ``time`` and ``ew_time`` (s), ``peak`` (bytes) and the
        arguments.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    heads = _load_tool('benchmark_heads')
    aff = _load_tool('benchmark_affinity')
    from mmmtl.engine.optim_wrappers import MultiTaskOptimWrapper
    from mmmtl.testing import random_sample
    tasks = ALL_TASKS[:num_tasks]
    cfg = heads.load_config(CONFIG, {'model.decode_head.tasks': tasks})
    dev = torch.device(device)
    model = heads.build_model(cfg).to(dev).train()

    def wrapper_of(name):
        return MultiTaskOptimWrapper(
            torch.optim.SGD(model.parameters(), lr=1e-6),
            method=dict(type=name), mode=mode)

    wrapper, ew = wrapper_of(method), wrapper_of('EW')
    h, w = shape
    inputs = torch.randn(batch, 3, h, w, device=dev)
    samples = [random_sample(h, w, i, tasks).to(dev) for i in range(batch)]
    cuda = dev.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        aff._reset_peak_rss()
        base = aff._status_bytes('VmRSS')
    times: List[float] = [
        _iteration(model, wrapper, inputs, samples, cuda)
        for _ in range(repeats + 1)
    ][1:]
    peak = (torch.cuda.max_memory_allocated() if cuda else
            aff._status_bytes('VmHWM')) - base
    ew_times: List[float] = []
    _iteration(model, ew, inputs, samples, cuda)  # warm-up
    for _ in range(repeats):
        ew_times.append(_iteration(model, ew, inputs, samples, cuda))
        times.append(_iteration(model, wrapper, inputs, samples, cuda))
    return dict(num_tasks=num_tasks, method=method, mode=mode,
                time=min(times), ew_time=min(ew_times), peak=max(peak, 0))


def measure_isolated(**kwargs) -> Dict:
    """:func:`measure` in a fresh Python process (clean peak RSS)."""
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--worker',
         json.dumps(kwargs)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f'{kwargs}: measurement failed (exit '
                       f'{proc.returncode}):\n{proc.stderr[-3000:]}')


def format_table(results: Sequence[Dict], shape: Sequence[int],
                 batch: int) -> str:
    """Markdown table: time and peak memory, absolute and / EW."""
    lines = [
        f'HRNet-18 + FPN + HPS heads, input {shape[0]}x{shape[1]}, '
        f'batch {batch}; ratios to EW with the same tasks', '',
        '| tasks | method | mode | time / iter | time / EW | peak memory | '
        'memory / EW |', '|---|---|---|---|---|---|---|'
    ]
    # time / EW: against EW timed in the same process, interleaved;
    # memory / EW: against EW's own process
    reference = {r['num_tasks']: r for r in results if r['method'] == 'EW'}
    for r in results:
        ref = reference.get(r['num_tasks'])
        t_ratio = f'{r["time"] / r["ew_time"]:.2f}x'
        m_ratio = f'{r["peak"] / ref["peak"]:.2f}x' if ref and \
            ref['peak'] > 0 else '–'
        mode = '–' if r['method'] in ('EW', 'FAMO', 'RLW', 'GLS') \
            else r['mode']
        lines.append(f'| {r["num_tasks"]} | {r["method"]} | {mode} | '
                     f'{r["time"]:.3f} s | {t_ratio} | '
                     f'{r["peak"] / 2**20:.0f} MB | {m_ratio} |')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', type=int, nargs='+', default=[2, 3, 5],
                        help='numbers of tasks (1-5)')
    parser.add_argument('--runs', nargs='+', default=DEFAULT_RUNS,
                        help='METHOD or METHOD:MODE entries (EW is always '
                        'measured first)')
    parser.add_argument('--shape', type=int, nargs=2, default=[64, 96],
                        metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='also write the results as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    logger = MMLogger.get_current_instance()
    for n in args.tasks:
        if not 1 <= n <= len(ALL_TASKS):
            raise ValueError(f'--tasks must be within 1-{len(ALL_TASKS)}, '
                             f'got {n}')
    runs = ['EW'] + [r for r in args.runs if r != 'EW']
    results = []
    for n in args.tasks:
        for run in runs:
            method, _, mode = run.partition(':')
            kwargs = dict(num_tasks=n, method=method,
                          mode=mode or 'representation',
                          shape=args.shape, batch=args.batch,
                          repeats=args.repeats, device=args.device,
                          threads=args.threads)
            results.append(measure(**kwargs) if args.device != 'cpu'
                           else measure_isolated(**kwargs))
            logger.info(f'measured {n} tasks {run}')
    table = format_table(results, args.shape, args.batch)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    print(table)  # noqa: T201
    return table


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--worker':
        print(_MARK + json.dumps(measure(**json.loads(sys.argv[2]))))  # noqa
    else:
        main()
