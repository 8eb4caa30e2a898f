# Copyright (c) mmmtl contributors. All rights reserved.
"""Write the id list of a deterministic labelled fraction of a training split.

The subset is exactly the one ``label_fraction=<f>, label_fraction_seed=<s>``
selects inside the dataset (same algorithm: ``ceil(f * n)`` ids drawn by
``numpy.random.default_rng(s).permutation``, kept in split order), so a run
can either set ``label_fraction`` in its config or point ``split_file`` at
the written list (useful to share or archive the exact subset)::

    python tools/misc/make_label_fraction_split.py \
        configs/_base_/datasets/nyud.py --fraction 0.1 --seed 0 \
        --out data/NYUD_MT/gt_sets/train_10pct_seed0.txt

then ``train_dataloader.dataset.split_file='gt_sets/train_10pct_seed0.txt'``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmmtl  # noqa: F401  (registers the datasets)
# The dataset modules register themselves on import (also when the package
# __init__ does not list them).
import mmmtl.datasets.cityscapes_mtl  # noqa: F401,E402
import mmmtl.datasets.nyud  # noqa: F401,E402
import mmmtl.datasets.nyuv2_13  # noqa: F401,E402
import mmmtl.datasets.pascal_context  # noqa: F401,E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a label-fraction split file')
    parser.add_argument('config', help='config with a train_dataloader')
    parser.add_argument('--fraction', type=float, required=True,
                        help='fraction of labelled images, in (0, 1]')
    parser.add_argument('--seed', type=int, default=0, help='subset seed')
    parser.add_argument('--out', required=True, help='output id list')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg.update(pipeline=[], label_fraction=args.fraction,
                       label_fraction_seed=args.seed)
    dataset = DATASETS.build(dataset_cfg)
    ids = [dataset.get_data_info(i)['sample_id']
           for i in range(len(dataset))]
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(ids) + '\n')
    MMLogger.get_current_instance().info(
        f'{len(ids)} ids (fraction {args.fraction}, seed {args.seed}) '
        f'written to {args.out}')


if __name__ == '__main__':
    main()
