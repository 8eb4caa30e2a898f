# Copyright (c) mmmtl contributors. All rights reserved.
"""Run a multi-task model on an image or a folder of images.

    python tools/infer.py IMG_OR_DIR CONFIG CHECKPOINT --out-dir outputs

writes ``outputs/<task>/<stem>.png`` (class ids with palette, 16-bit depth
in millimetres plus ``.npy`` in metres, normals RGB, edge/saliency 8-bit
probabilities) and ``outputs/panels/<stem>.png`` for every image; see
``docs/en/user_guides/visualization.md``.
"""
import argparse
import time

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from mmmtl.apis import MultiTaskInferencer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict every task of images with a multi-task model')
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', default='outputs',
                        help='folder for per-task predictions and panels')
    parser.add_argument('--device', default=None,
                        help="device, e.g. 'cpu' or 'cuda:0' (default: the "
                        'best available)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--no-panel', action='store_true',
                        help='do not draw panels')
    parser.add_argument('--show', action='store_true',
                        help='display each panel in a window')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logger = MMLogger.get_instance('mmmtl-infer', log_level='INFO')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = MultiTaskInferencer(cfg, args.checkpoint,
                                     device=args.device)
    start = time.perf_counter()
    result = inferencer(args.inputs, batch_size=args.batch_size,
                        out_dir=args.out_dir, show=args.show,
                        draw_panel=not args.no_panel)
    count = len(result['predictions'])
    logger.info(f'{count} image(s) in {time.perf_counter() - start:.2f} s; '
                f'predictions and panels are in {args.out_dir}/')


if __name__ == '__main__':
    main()
