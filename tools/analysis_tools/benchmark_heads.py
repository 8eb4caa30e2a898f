# Copyright (c) mmmtl contributors. All rights reserved.
"""Resources of multi-task heads: the analogue of the CTAL resource table.

For each config: parameters of the whole model (and relative to the
single-task baseline, the sum of the ``--stl`` configs' parameters, since
the STL baseline is one network per task), FLOPs of the inference path
(MMEngine's fvcore-style ``FlopAnalyzer``, through the helpers of
``tools/analysis_tools/get_flops.py``; one multiply-add = one FLOP; heads
with ``memory_efficient=True`` are counted on their dense path, since the
tracer does not see inside the chunked custom autograd functions),
forward+backward time per training iteration (``model.loss`` on random
ground truth, median of ``--repeats`` after one warm-up) and peak memory of
that iteration.

Peak memory: on CPU every config runs in a fresh subprocess and the peak is
the growth of the peak resident size (``VmHWM``, reset just before the first
iteration) over the resident size at that moment (the model and inputs are
already allocated, so it is the activations, gradients and workspace); on
CUDA it is ``torch.cuda.max_memory_allocated`` above the allocation before
the first iteration. Backbone ``init_cfg`` is dropped (random weights, no
file needed).

Example (batch 1, NYUv2-13 HRNet-18 configs at 288x384)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_heads.py \
        configs/hps/hps_hrnet18_20k_nyuv2-13-288x384.py \
        configs/ctal/ctal-ss_hrnet18_20k_nyuv2-13-288x384.py \
        --stl configs/single_task/stl-{semseg,depth,normals}_hrnet18_20k_\
nyuv2-13-288x384.py --shape 288 384 --batch 1 --repeats 2
"""
import argparse
import importlib.util
import json
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

_HERE = osp.dirname(osp.abspath(__file__))


def _load_tool(name: str):
    """Import a sibling script of ``tools/analysis_tools`` (not a package).
    """
    spec = importlib.util.spec_from_file_location(
        f'_mmmtl_{name}', osp.join(_HERE, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Config with the backbone's pretrained ``init_cfg`` removed."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.model.get('backbone') is not None:
        cfg.model.backbone.init_cfg = None
    return cfg


def build_model(cfg: Config) -> torch.nn.Module:
    """Build the config's segmentor (registers mmmtl's modules)."""
    import mmmtl  # noqa: F401
    from mmseg.registry import MODELS
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return MODELS.build(cfg.model)


def count_params(model: torch.nn.Module) -> Dict[str, int]:
    """Parameters: ``total``, ``backbone``, ``decode_head``."""
    def n(m):
        return sum(p.numel() for p in m.parameters()) if m is not None else 0

    return dict(total=n(model), backbone=n(getattr(model, 'backbone', None)),
                decode_head=n(getattr(model, 'decode_head', None)))


def count_flops(model: torch.nn.Module, shape: Sequence[int]) -> int:
    """FLOPs of the inference path at (1, 3, H, W) (get_flops.py helpers).
    """
    get_flops = _load_tool('get_flops')
    model.eval()
    tasks = [t for t in model.tasks if t in get_flops.TASKS]
    result = get_flops.analyze(get_flops.InferencePath(model),
                               (torch.randn(1, 3, *shape), ), tasks,
                               prefix='model', root='decode_head (shared)')
    return result['total_flops']


def time_and_memory(model: torch.nn.Module, shape: Sequence[int],
                    batch: int, repeats: int,
                    device: str = 'cpu') -> Dict[str, float]:
    """Median forward+backward seconds per iteration and peak bytes.

    Args:
        model (nn.Module): A multi-task segmentor.
        shape (Sequence[int]): Input (H, W).
        batch (int): Batch size.
        repeats (int): Timed iterations (after one warm-up).
        device (str): ``'cpu'`` or a CUDA device.

    Returns:
        dict: ``time`` (s), ``peak`` (bytes, see the module docstring).
    """
    from mmmtl.testing import random_sample
    aff = _load_tool('benchmark_affinity')
    dev = torch.device(device)
    model = model.to(dev).train()
    h, w = shape
    inputs = torch.randn(batch, 3, h, w, device=dev)
    samples = [random_sample(h, w, i, model.tasks).to(dev)
               for i in range(batch)]
    cuda = dev.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        aff._reset_peak_rss()
        base = aff._status_bytes('VmRSS')
    times: List[float] = []
    for i in range(repeats + 1):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        losses = model.loss(inputs, samples)
        total = sum(v for k, v in losses.items()
                    if 'loss' in k and v.requires_grad)
        total.backward()
        if cuda:
            torch.cuda.synchronize()
        if i > 0:
            times.append(time.perf_counter() - start)
    if cuda:
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = aff._status_bytes('VmHWM') - base
    return dict(time=statistics.median(times), peak=max(peak, 0))


def measure_config(path: str, shape: Sequence[int], batch: int,
                   repeats: int, device: str = 'cpu', threads: int = 1,
                   flops: bool = True, timing: bool = True,
                   cfg_options: Optional[dict] = None) -> Dict:
    """All resources of one config (in the calling process)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = load_config(path, cfg_options)
    model = build_model(cfg)
    result = dict(config=path, tasks=list(model.tasks),
                  params=count_params(model))
    if flops:
        # The memory-efficient affinity path is a custom autograd function,
        # which the tracer does not count: FLOPs come from the dense path,
        # the computation as the papers define it (the factorised path
        # computes the same function with fewer operations).
        head = cfg.model.get('decode_head', {})
        if head.get('memory_efficient'):
            dense_cfg = load_config(path, cfg_options)
            dense_cfg.model.decode_head.memory_efficient = False
            torch.manual_seed(0)
            result['flops'] = count_flops(build_model(dense_cfg), shape)
        else:
            result['flops'] = count_flops(model, shape)
    else:
        result['flops'] = None
    if timing:
        result.update(time_and_memory(model, shape, batch, repeats, device))
    return result


_MARK = '@@benchmark_heads_result@@'


def measure_isolated(**kwargs) -> Dict:
    """:func:`measure_config` in a fresh Python process on CPU (clean peak
    RSS; this script run with ``--worker``), inline on CUDA."""
    if kwargs.get('device', 'cpu') != 'cpu':
        return measure_config(**kwargs)
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--worker',
         json.dumps(kwargs)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f'{kwargs.get("path")}: measurement failed '
                       f'(exit {proc.returncode}):\n{proc.stderr[-3000:]}')


def _worker_main(kwargs_json: str) -> None:
    """Entry point of :func:`measure_isolated`'s subprocess."""
    result = measure_config(**json.loads(kwargs_json))
    print(_MARK + json.dumps(result))  # noqa: T201


def relative_params(results: Sequence[Dict],
                    stl_results: Sequence[Dict]) -> Optional[int]:
    """Sum of the single-task configs' parameters (one network per task),
    after checking that they cover every task of ``results`` once."""
    if not stl_results:
        return None
    covered: List[str] = []
    for r in stl_results:
        covered += r['tasks']
    if len(set(covered)) != len(covered):
        raise ValueError(f'--stl configs repeat a task: {covered}')
    for r in results:
        missing = set(r['tasks']) - set(covered)
        if missing:
            raise ValueError(f'{r["config"]}: no --stl config for tasks '
                             f'{sorted(missing)}')
    return sum(r['params']['total'] for r in stl_results)


def format_table(results: Sequence[Dict], stl_total: Optional[int],
                 shape: Sequence[int], batch: int) -> str:
    """Markdown table of the measurements."""
    lines = [
        f'input {shape[0]}x{shape[1]}, batch {batch} (FLOPs at batch 1, '
        'inference path)', '',
        '| config | params | params / STL | head params | FLOPs | '
        'fwd+bwd time | peak memory |',
        '|---|---|---|---|---|---|---|'
    ]
    for r in results:
        p = r['params']
        rel = f'{p["total"] / stl_total:.3f}' if stl_total else '–'
        flops = f'{r["flops"] / 1e9:.2f} G' if r.get('flops') else '–'
        t = f'{r["time"]:.2f} s' if 'time' in r else '–'
        mem = f'{r["peak"] / 2**20:.0f} MB' if 'peak' in r else '–'
        lines.append(
            f'| {osp.basename(r["config"])} | {p["total"] / 1e6:.3f} M | '
            f'{rel} | {p["decode_head"] / 1e6:.3f} M | {flops} | {t} | '
            f'{mem} |')
    if stl_total:
        lines.append('')
        lines.append(f'STL baseline (sum of the single-task networks): '
                     f'{stl_total / 1e6:.3f} M parameters')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--stl', nargs='*', default=[],
                        help='single-task configs, one per task (their '
                        'parameters sum to the STL baseline); also measured')
    parser.add_argument('--shape', type=int, nargs=2, required=True,
                        metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-flops', action='store_true')
    parser.add_argument('--no-isolate', action='store_true',
                        help='measure in this process (CPU peak memory then '
                        'includes earlier configs\' allocations)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    logger = MMLogger.get_current_instance()
    common = dict(shape=args.shape, batch=args.batch, repeats=args.repeats,
                  device=args.device, threads=args.threads,
                  flops=not args.no_flops)
    measure = measure_config if args.no_isolate else measure_isolated
    stl_results, results = [], []
    for path in args.stl:
        stl_results.append(measure(path=path, **common))
        logger.info(f'measured {path}')
    for path in args.configs:
        results.append(measure(path=path, **common))
        logger.info(f'measured {path}')
    stl_total = relative_params(results, stl_results)
    table = format_table(stl_results + results, stl_total, args.shape,
                         args.batch)
    print(table)  # noqa: T201
    return table


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--worker':
        _worker_main(sys.argv[2])
    else:
        main()
