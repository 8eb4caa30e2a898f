# Copyright (c) mmmtl contributors. All rights reserved.
"""Train a multi-task model (MMSegmentation-style command line)."""
import argparse
import logging
import os
import os.path as osp

# MMMTL_DEVICE=cpu runs on the CPU where a GPU is visible: hide the GPUs
# before any import can initialise CUDA (see mmmtl.utils.runtime).
if os.environ.get('MMMTL_DEVICE', '').strip().lower() == 'cpu':
    os.environ['CUDA_VISIBLE_DEVICES'] = ''

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmseg.registry import RUNNERS  # noqa: E402

from mmmtl.utils.runtime import refuse_amp_without_cuda  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a multi-task model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training (CUDA only)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate linearly with the total batch size '
        '(GPUs x batch_size / auto_scale_lr.base_batch_size of the config)')
    parser.add_argument(
        '--nonfinite-loss',
        choices=['stop', 'skip', 'off'],
        help='what a NaN/Inf total loss does: stop the run (default), skip '
        'the step and count it, or nothing (config key `nonfinite_loss`)')
    parser.add_argument(
        '--loss-spike-ratio',
        type=float,
        help='stop when the loss exceeds this many times its running median '
        '(config key `loss_spike_ratio`; off by default)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs such as '
        'train_dataloader.batch_size=4')
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
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
        elif optim_wrapper == 'MultiTaskOptimWrapper':
            # keeps the multi-task method; AMP is the wrapper's own
            cfg.optim_wrapper.dtype = 'float16'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
            raise ValueError(
                '--auto-scale-lr needs `auto_scale_lr = dict('
                'base_batch_size=N)` in the config: the total batch size '
                '(processes x samples per process) its learning rate is '
                'meant for')
        cfg.auto_scale_lr.enable = True
    if args.nonfinite_loss is not None:
        cfg.nonfinite_loss = args.nonfinite_loss
    if args.loss_spike_ratio is not None:
        cfg.loss_spike_ratio = args.loss_spike_ratio
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    refuse_amp_without_cuda(args.amp)
    # MultiTaskRunner applies the safeguards (also for a config that does
    # not inherit configs/_base_/default_runtime.py, which declares it)
    cfg.setdefault('runner_type', 'MultiTaskRunner')
    runner = RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
