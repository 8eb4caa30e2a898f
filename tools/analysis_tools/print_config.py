# Copyright (c) mmmtl contributors. All rights reserved.
"""Print the full config (all ``_base_`` files merged).

    python tools/analysis_tools/print_config.py CONFIG \\
        [--cfg-options k=v ...] [--save-path full.py]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--save-path', help='also save the merged config '
                        '(.py, .json or .yaml)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def main(argv=None) -> Config:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')  # noqa: T201
    if args.save_path:
        suffix = osp.splitext(args.save_path)[1]
        if suffix not in ('.py', '.json', '.yaml', '.yml'):
            raise ValueError(f'--save-path must end in .py, .json or .yaml, '
                             f'got {args.save_path}')
        os.makedirs(osp.dirname(osp.abspath(args.save_path)), exist_ok=True)
        cfg.dump(args.save_path)
        print(f'Config saved to {args.save_path}')  # noqa: T201
    return cfg


if __name__ == '__main__':
    main()
