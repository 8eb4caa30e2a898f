# Copyright (c) mmmtl contributors. All rights reserved.
"""Plot logged scalars (per-task losses, task weights, metrics) to a PNG.

    python tools/analysis_tools/analyze_logs.py work_dirs/demo \\
        --keys loss 'semseg.loss_*' 'weight.*' --out curves.png
    python tools/analysis_tools/analyze_logs.py run_a run_b \\
        --keys mtl/delta_m --legend A B --out delta_m.png
    python tools/analysis_tools/analyze_logs.py work_dirs/demo --list-keys

A run is a JSON-lines log written by MMEngine (``<work_dir>/<timestamp>/
vis_data/scalars.json`` or ``<timestamp>.json``) or a work dir (its newest
such log is used). Training lines carry ``iter``/``step``, validation lines
``step``; the x axis is the iteration (``step``). Keys accept shell-style
patterns (``*``, ``?``), so ``'*.unweighted'`` plots every task's loss.
Several runs go on one plot, one line per (run, key).
"""
import argparse
import fnmatch
import glob
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Dict[str, Tuple[List[float], List[float]]]


def find_log(path: str) -> str:
    """The JSON log of ``path`` (a log file, or the newest in a work dir)."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither a log file nor a folder')
    candidates = glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
    candidates += glob.glob(osp.join(path, 'vis_data', 'scalars.json'))
    if not candidates:
        raise FileNotFoundError(
            f'no MMEngine log (*/vis_data/scalars.json) under {path}')
    return max(candidates, key=osp.getmtime)


def load_json_log(path: str) -> Series:
    """Every numeric key of a JSON-lines log as (steps, values).

    Args:
        path (str): Log file, one JSON dict per line.

    Returns:
        dict[str, tuple[list[float], list[float]]]: key -> x (``step``,
        else ``iter``, else the line number) and y, in file order. Lines
        that are not JSON (a run killed mid-write) are skipped.
    """
    series: Series = OrderedDict()
    with open(path) as f:
        for number, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            x = entry.get('step', entry.get('iter', number))
            for key, value in entry.items():
                if key in ('step', 'iter', 'epoch') or \
                        isinstance(value, bool) or \
                        not isinstance(value, (int, float)):
                    continue
                xs, ys = series.setdefault(key, ([], []))
                xs.append(float(x))
                ys.append(float(value))
    return series


def select_keys(available: Sequence[str], patterns: Sequence[str]
                ) -> List[str]:
    """Keys matching each pattern, in pattern order, without repeats."""
    chosen: List[str] = []
    for pattern in patterns:
        matches = [k for k in available if fnmatch.fnmatchcase(k, pattern)]
        for key in matches:
            if key not in chosen:
                chosen.append(key)
    return chosen


def plot_curves(runs: Sequence[Series], patterns: Sequence[str],
                out: str, legends: Optional[Sequence[str]] = None,
                title: Optional[str] = None, log_y: bool = False) -> int:
    """Plot the matching keys of every run on one figure saved to ``out``.

    Args:
        runs (Sequence[Series]): Parsed logs (:func:`load_json_log`).
        patterns (Sequence[str]): Key names or patterns.
        out (str): PNG file.
        legends (Sequence[str], optional): A name per run.
        title (str, optional): Figure title.
        log_y (bool): Logarithmic y axis.

    Returns:
        int: Number of lines drawn.
    """
    legends = list(legends or [f'run{i}' for i in range(len(runs))])
    if len(legends) != len(runs):
        raise ValueError(f'{len(legends)} legends for {len(runs)} runs')
    fig, ax = plt.subplots(figsize=(8, 5))
    lines = 0
    for name, series in zip(legends, runs):
        for key in select_keys(list(series), patterns):
            xs, ys = series[key]
            label = key if len(runs) == 1 else f'{name}: {key}'
            ax.plot(xs, ys, marker='.' if len(xs) < 30 else None,
                    label=label)
            lines += 1
    if lines == 0:
        plt.close(fig)
        known = sorted({k for s in runs for k in s})
        raise KeyError(f'no logged key matches {list(patterns)}; the logs '
                       f'have {known}')
    ax.set_xlabel('iteration')
    ax.set_ylabel(', '.join(patterns) if len(patterns) < 4 else 'value')
    if log_y:
        ax.set_yscale('log')
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize='small')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return lines


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot logged scalars')
    parser.add_argument('logs', nargs='+',
                        help='JSON logs (scalars.json) or work dirs')
    parser.add_argument('--keys', nargs='+', default=['loss'],
                        help='keys or patterns to plot, e.g. loss '
                        "'*.unweighted' 'weight.*' mtl/delta_m")
    parser.add_argument('--legend', nargs='+', help='a name per run')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--log-y', action='store_true',
                        help='logarithmic y axis')
    parser.add_argument('--out', default='curves.png', help='PNG file')
    parser.add_argument('--list-keys', action='store_true',
                        help='print the logged keys and exit')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    paths = [find_log(p) for p in args.logs]
    runs = [load_json_log(p) for p in paths]
    if args.list_keys:
        for path, series in zip(paths, runs):
            print(f'{path}:')  # noqa: T201  (command-line output)
            for key, (xs, _) in series.items():
                print(f'  {key}  ({len(xs)} values)')  # noqa: T201
        return
    legends = args.legend or [osp.basename(osp.normpath(p)) for p in args.logs]
    lines = plot_curves(runs, args.keys, args.out, legends, args.title,
                        args.log_y)
    print(f'{lines} curve(s) written to {args.out}')  # noqa: T201


if __name__ == '__main__':
    main()
