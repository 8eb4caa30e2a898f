# Copyright (c) mmmtl contributors. All rights reserved.
"""Write a PNG panel (image + every task map) per sample of a dataset.

Example::

    python tools/misc/browse_dataset.py \
        configs/hps/hps_resnet18_2k_synthetic-128x160.py \
        --output-dir work_dirs/browse --num 8
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS

from mmmtl.structures import TASKS
from mmmtl.utils import atomic_write
from mmmtl.visualization import draw_task_panel


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', default='work_dirs/browse',
                        help='folder for the panels')
    parser.add_argument('--num', type=int, default=8,
                        help='number of samples')
    parser.add_argument('--split', choices=['train', 'val', 'test'],
                        default='train',
                        help='which dataloader\'s dataset (and pipeline)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def packed_to_panel(item: dict, metainfo: dict) -> np.ndarray:
    """Panel of one pipeline output (``inputs`` + ``data_samples``)."""
    image = item['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]
    image = np.clip(image, 0, 255).astype(np.uint8)
    sample = item['data_samples']
    gts = {t: sample.get(s.gt_field).data for t, s in TASKS.items()
           if s.gt_field in sample}
    return draw_task_panel(np.ascontiguousarray(image), gts, {}, metainfo)


def main(argv: Optional[List[str]] = None) -> List[str]:
    """Write the panels; returns their paths (``argv`` as on the command
    line, ``None`` reads ``sys.argv``)."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    import mmmtl  # noqa: F401  (registers the modules)
    logger = MMLogger.get_instance('mmmtl')
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader']['dataset'])
    num = min(args.num, len(dataset))
    progress = ProgressBar(num)
    written = []
    for index in range(num):
        item = dataset[index]
        panel = packed_to_panel(item, dataset.metainfo)
        stem = osp.splitext(osp.basename(
            item['data_samples'].img_path))[0]
        out = osp.join(args.output_dir, f'{index:04d}_{stem}.png')
        atomic_write(out, lambda tmp: mmcv.imwrite(mmcv.rgb2bgr(panel), tmp))
        written.append(out)
        progress.update()
    logger.info(f'wrote {num} panels to {args.output_dir}')
    return written


if __name__ == '__main__':
    main()
