# Copyright (c) mmmtl contributors. All rights reserved.
"""Parameters and FLOPs of a config's inference path, per part.

    python tools/analysis_tools/get_flops.py CONFIG [--shape 128 160]

The inference path is what ``model.predict`` runs: backbone, neck and the
decode head's final predictions, from the normalised (1, 3, H, W) input to
every task's raw output at the input size. Training-only modules (auxiliary
losses such as CCR projectors, self-supervised heads, deep-supervision
layers that the test path skips) are not run, so neither their FLOPs nor
their parameters are counted; their parameters are reported separately.
Post-processing (argmax, sigmoid, resizing to the original image size) is
not counted.

FLOPs are counted by MMEngine's ``FlopAnalyzer`` (the fvcore counter): one
fused multiply-add is one FLOP, as in MMSegmentation's ``get_flops.py``.
Each module's own operations (its count minus its children's) go to the
part its name belongs to: ``backbone``, ``neck``, ``decode_head/<task>``
(any module whose name contains a task key, e.g.
``decode_head.decoders.depth``) or ``decode_head (shared)``. Operations a
head performs outside its submodules (resizing, concatenation, affinity
products written functionally) count as ``decode_head (shared)``, so a
head with per-task work only gets it split per task if that work lives in
submodules keyed by task name.
"""
import argparse
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmmtl.structures import TASKS


class InferencePath(nn.Module):
    """Wraps a multi-task segmentor so ``forward`` is its test path.

    Returns a tuple (one (B, C_t, H, W) tensor per task, in the model's
    task order) so the tracer sees plain tensors.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        shape = tuple(inputs.shape[2:])
        metas = [dict(img_shape=shape, pad_shape=shape, ori_shape=shape)
                 ] * inputs.shape[0]
        outputs = self.model.encode_decode(inputs, metas)
        return tuple(outputs[t] for t in self.model.tasks)


def part_of(name: str, tasks: Sequence[str], prefix: str = '',
            root: str = 'other') -> str:
    """Part a module belongs to, from its dotted name.

    Args:
        name (str): Module name, e.g. ``'model.decode_head.decoders.depth.0'``.
        tasks (Sequence[str]): Task keys.
        prefix (str): Leading component to strip (e.g. ``'model'``).
        root (str): Part of the root module itself (operations run outside
            any submodule).

    Returns:
        str: ``'backbone'``, ``'neck'``, ``'decode_head/<task>'``,
        ``'decode_head (shared)'``, ``root`` or the top-level module's name.
    """
    parts = name.split('.') if name else []
    if prefix and parts and parts[0] == prefix:
        parts = parts[1:]
    if not parts:
        return root
    top = parts[0]
    for component in parts[1:]:
        if component in tasks:
            return f'{top}/{component}'
    return f'{top} (shared)' if top == 'decode_head' else top


def own_counts(by_module: Dict[str, int], module: nn.Module
               ) -> Dict[str, int]:
    """Each module's own count: its total minus its direct children's."""
    own = {}
    for name, mod in module.named_modules():
        total = by_module.get(name, 0)
        children = sum(by_module.get(f'{name}.{c}' if name else c, 0)
                       for c, _ in mod.named_children())
        own[name] = total - children
    return own


def modules_run(module: nn.Module, inputs: Tuple[torch.Tensor, ...]
                ) -> List[str]:
    """Names of the modules called by ``module(*inputs)``."""
    called, handles = [], []
    for name, mod in module.named_modules():
        handles.append(mod.register_forward_hook(
            lambda m, i, o, name=name: called.append(name)))
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return sorted(set(called))


def analyze(module: nn.Module, inputs: Tuple[torch.Tensor, ...],
            tasks: Sequence[str], prefix: str = '',
            root: str = 'other') -> dict:
    """FLOPs and parameters per part of ``module(*inputs)``.

    Args:
        module (nn.Module): Model (in eval mode).
        inputs (tuple[Tensor]): Its inputs.
        tasks (Sequence[str]): Task keys used to split head modules.
        prefix (str): Name of the wrapped model inside ``module``.
        root (str): Part credited with operations outside any submodule.

    Returns:
        dict: ``flops`` (part -> FLOPs), ``params`` (part -> parameters of
        the modules that ran), ``total_flops``, ``total_params`` (inference
        path), ``unused_params`` (parameters of modules that never ran).
    """
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    by_module = dict(analyzer.by_module())
    flops: Dict[str, int] = OrderedDict()
    for name, count in own_counts(by_module, module).items():
        if count:
            key = part_of(name, tasks, prefix, root)
            flops[key] = flops.get(key, 0) + count
    ran = set(modules_run(module, inputs))
    params: Dict[str, int] = OrderedDict()
    unused = 0
    for name, mod in module.named_modules():
        count = sum(p.numel() for p in mod.parameters(recurse=False))
        if not count:
            continue
        if name in ran:
            key = part_of(name, tasks, prefix)
            params[key] = params.get(key, 0) + count
        else:
            unused += count
    return dict(flops=flops, params=params,
                total_flops=int(analyzer.total()),
                total_params=sum(params.values()), unused_params=unused)


def format_count(value: float, unit: str) -> str:
    """``1.23 G`` style number (G/M/K)."""
    for scale, letter in ((1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(value) >= scale:
            return f'{value / scale:.3f} {letter}{unit}'
    return f'{value:.0f} {unit}'


def format_table(result: dict, shape: Tuple[int, ...]) -> str:
    """Plain-text table of :func:`analyze`'s result."""
    parts = list(result['flops'])
    parts += [p for p in result['params'] if p not in parts]
    order = sorted(parts, key=lambda p: (not p.startswith('backbone'),
                                         not p.startswith('neck'),
                                         '/' in p, p))
    lines = [f'input shape: {tuple(shape)}',
             f'{"part":<28}{"FLOPs":>16}{"params":>16}', '-' * 60]
    for part in order:
        lines.append(
            f'{part:<28}'
            f'{format_count(result["flops"].get(part, 0), "FLOPs"):>16}'
            f'{format_count(result["params"].get(part, 0), ""):>16}')
    lines.append('-' * 60)
    lines.append(f'{"total (inference path)":<28}'
                 f'{format_count(result["total_flops"], "FLOPs"):>16}'
                 f'{format_count(result["total_params"], ""):>16}')
    lines.append(f'training-only parameters (not run at inference): '
                 f'{format_count(result["unused_params"], "")}')
    lines.append('FLOPs count one multiply-add as one FLOP (fvcore).')
    return '\n'.join(lines)


def input_shape(cfg: Config, shape: Optional[Sequence[int]]) -> List[int]:
    """(H, W) from ``--shape``, else the config's ``crop_size``."""
    if shape:
        if len(shape) == 1:
            return [shape[0], shape[0]]
        if len(shape) == 2:
            return list(shape)
        raise ValueError(f'--shape takes H or H W, got {shape}')
    if cfg.get('crop_size'):
        return list(cfg.crop_size)
    raise ValueError('the config has no crop_size; give --shape H W')


def get_flops(cfg: Config, shape: Sequence[int]) -> dict:
    """Build the config's model (random weights) and analyse it."""
    from mmseg.registry import MODELS
    import mmmtl  # noqa: F401  (registers the modules)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.eval()
    wrapper = InferencePath(model)
    inputs = (torch.randn(1, 3, *shape), )
    tasks = [t for t in model.tasks if t in TASKS]
    # The segmentor's test path runs the head through ``decode_head.predict``,
    # which calls the head's ``forward`` as a method, not as a module call;
    # the tracer then sees the head's own operations (feature fusion,
    # resizing to the input size) at the root. Everything else of the test
    # path is inside backbone / neck / head submodule calls, so root
    # operations are the shared part of the head.
    return analyze(wrapper, inputs, tasks, prefix='model',
                   root='decode_head (shared)')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs of the inference path')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input H W (default: the config crop_size)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = input_shape(cfg, args.shape)
    result = get_flops(cfg, shape)
    print(format_table(result, (1, 3, *shape)))  # noqa: T201
    return result


if __name__ == '__main__':
    main()
