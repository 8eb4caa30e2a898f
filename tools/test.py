# Copyright (c) mmmtl contributors. All rights reserved.
"""Evaluate a multi-task model (MMSegmentation-style command line)."""
import argparse
import os
import os.path as osp

# MMMTL_DEVICE=cpu runs on the CPU where a GPU is visible: hide the GPUs
# before any import can initialise CUDA (see mmmtl.utils.runtime).
if os.environ.get('MMMTL_DEVICE', '').strip().lower() == 'cpu':
    os.environ['CUDA_VISIBLE_DEVICES'] = ''

from mmengine.config import Config, DictAction  # noqa: E402
from mmseg.registry import RUNNERS  # noqa: E402

from mmmtl.utils.checkpoint_safety import (  # noqa: E402
    format_load_report, load_runner_checkpoint)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a multi-task model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='folder to save every task prediction of every test image in '
        'standard formats (class PNG, 16-bit depth PNG + .npy, normals PNG, '
        'edge/saliency PNG)')
    parser.add_argument(
        '--show-dir', help='folder to write a visual panel per test image')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint whose keys differ from the model (a '
        'deliberate partial load): print the keys that were not loaded '
        'instead of stopping')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # loaded below, strictly unless --non-strict
    if args.show_dir:
        hooks = cfg.setdefault('default_hooks', {})
        vis = hooks.get('visualization') or dict(
            type='MultiTaskVisualizationHook')
        vis.update(draw=True, num_images=None,
                   show_dir=osp.abspath(args.show_dir))
        hooks['visualization'] = vis
    if args.out:
        # Assign the list back: `cfg.setdefault(...)` returns a converted
        # copy when the config has no custom_hooks, so appending to it
        # would silently drop the hook.
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
            dict(type='DumpPredictionsHook', out_dir=osp.abspath(args.out))
        ]
    # MultiTaskRunner checks the tasks and applies the runtime settings
    # (also for a config that does not inherit default_runtime.py)
    cfg.setdefault('runner_type', 'MultiTaskRunner')
    runner = RUNNERS.build(cfg)
    report = load_runner_checkpoint(runner, args.checkpoint,
                                    strict=not args.non_strict)
    if any(report.values()):
        print(f'--non-strict: {args.checkpoint} was loaded partially; not '
              'loaded:\n' + '\n'.join(format_load_report(report)))
    runner.test()


if __name__ == '__main__':
    main()
