# Copyright (c) mmmtl contributors. All rights reserved.
"""Generate the embedded synthetic multi-task dataset.

Example::

    python tools/misc/generate_synthetic.py --out data/synthetic
"""
import argparse
import time

from mmengine.logging import MMLogger

from mmmtl.datasets.synthetic_generator import generate_synthetic_dataset


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic multi-task dataset')
    parser.add_argument('--out', default='data/synthetic',
                        help='output folder (must not exist)')
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--height', type=int, default=128)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=2,
                        help='worker processes')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output folder')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logger = MMLogger.get_instance('mmmtl')
    start = time.time()
    try:
        generate_synthetic_dataset(
            args.out, num_train=args.num_train, num_val=args.num_val,
            height=args.height, width=args.width, seed=args.seed,
            num_workers=args.workers, overwrite=args.overwrite,
            progress=True)
    except (FileExistsError, ValueError) as error:
        raise SystemExit(f'error: {error}') from None
    logger.info(f'wrote {args.num_train} + {args.num_val} images of '
                f'{args.height}x{args.width} to {args.out} in '
                f'{time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
