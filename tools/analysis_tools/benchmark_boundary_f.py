# Copyright (c) mmmtl contributors. All rights reserved.
"""Time of the exact boundary F protocol: all thresholds at once vs one by one.

For one synthetic 480x640 image it runs, side by side,

* ``fast``: :func:`~mmmtl.evaluation.functional.boundary_f.
  boundary_pr_counts` with ``matching='bipartite'``, which solves every
  threshold with :class:`~mmmtl.evaluation.functional.boundary_matching.
  IncrementalMatcher` (graph built once, components cached across
  thresholds), and
* ``reference``: the same NMS / binarisation / thinning, then
  :func:`~mmmtl.evaluation.functional.boundary_f.match_boundaries`
  (``'bipartite'``, a fresh Hopcroft-Karp graph per threshold),

checks that both give the same counts at the thresholds the reference ran,
and prints the CPU seconds per image of the whole protocol (process time,
so that other jobs on the machine do not inflate it) and their ratio. The
reference runs on ``--reference-thresholds`` of the distinct binary maps
(evenly spaced) and is extrapolated to all of them; pass a large number to
time it completely. Run it on one core (``taskset -c 0``) for the figure the
docs quote.

The synthetic image: the ground truth is the boundary map of a random
Voronoi partition (``--regions`` cells); the prediction blurs it, moves it
by up to ``--jitter`` px, adds weaker spurious boundaries of a second
partition and uniform noise, like a trained edge detector's output.
``--kind noise`` uses uniform noise instead (the worst case: dense maps).

Example::

    taskset -c 0 python tools/analysis_tools/benchmark_boundary_f.py
"""
import argparse
import time

import cv2
import numpy as np

from mmmtl.evaluation.functional.boundary_f import (BOUNDARY_PROTOCOLS,
                                                    _as_thresholds,
                                                    boundary_pr_counts,
                                                    edge_nms,
                                                    match_boundaries, near,
                                                    quantize_png)
from mmmtl.utils.boundary_morphology import seg2bmap, thin


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--protocol', default='seism',
                        choices=sorted(BOUNDARY_PROTOCOLS))
    parser.add_argument('--max-dist', type=float, default=0.011,
                        help='tolerance, fraction of the diagonal (NYUD)')
    parser.add_argument('--thresholds', type=int, default=99)
    parser.add_argument('--kind', default='edges', choices=['edges', 'noise'])
    parser.add_argument('--regions', type=int, default=60)
    parser.add_argument('--jitter', type=float, default=2.0)
    parser.add_argument('--reference-thresholds', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def voronoi_labels(rng, h, w, cells):
    """(H, W) int32 labels of a random Voronoi partition."""
    seeds = rng.uniform([0, 0], [h, w], size=(cells, 2))
    yy, xx = np.mgrid[0:h, 0:w]
    dist = (yy[None] - seeds[:, 0, None, None])**2 + \
        (xx[None] - seeds[:, 1, None, None])**2
    return dist.argmin(0).astype(np.int32)


def synthetic_pair(args):
    """(prediction in [0, 1], ground truth {0, 1}) of one image."""
    rng = np.random.default_rng(args.seed)
    h, w = args.height, args.width
    gt = seg2bmap(voronoi_labels(rng, h, w, args.regions)).astype(np.int64)
    if args.kind == 'noise':
        return rng.uniform(0, 1, (h, w)), gt
    # Move the true boundaries by a smooth random field, blur, add weaker
    # spurious boundaries and noise.
    field = cv2.GaussianBlur(rng.normal(0, 1, (2, h, w)).astype(np.float32)
                             .transpose(1, 2, 0), (0, 0), 25)
    field *= args.jitter / (np.abs(field).max() + 1e-9)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    moved = cv2.remap(gt.astype(np.float32), xx + field[..., 0],
                      yy + field[..., 1], cv2.INTER_LINEAR)
    spurious = seg2bmap(voronoi_labels(rng, h, w, args.regions // 3))
    pred = cv2.GaussianBlur(moved + 0.5 * spurious, (0, 0), 1.5)
    pred = pred / pred.max() + rng.uniform(0, 0.15, (h, w))
    return np.clip(pred, 0, 1).astype(np.float64), gt


def reference_counts(pred, gt, options, thresholds, max_dist, picks):
    """Counts at the thresholds ``picks`` matched one threshold at a time."""
    values = quantize_png(pred) if options['quantize'] else pred
    if options['nms']:
        values = edge_nms(values)
    gt_bin = thin(gt != 0)
    max_dist_px = max_dist * float(np.hypot(*gt.shape))
    near_gt = near(gt_bin, max_dist_px)
    out = {}
    for k in picks:
        t = thresholds[k]
        binary = values > t if options['comparison'] == '>' else values >= t
        binary = thin(binary)
        matched, _ = match_boundaries(binary, gt_bin, max_dist_px,
                                      'bipartite', near_gt)
        out[k] = (matched, int(gt_bin.sum()), matched, int(binary.sum()))
    return out


def distinct_maps(pred, options, thresholds):
    """Indices of the thresholds whose binary map differs from the last."""
    values = quantize_png(pred) if options['quantize'] else pred
    if options['nms']:
        values = edge_nms(values)
    sizes = [int((values > t).sum() if options['comparison'] == '>' else
                 (values >= t).sum()) for t in thresholds]
    return [k for k in range(len(sizes)) if k == 0 or sizes[k] != sizes[k - 1]]


def main():
    args = parse_args()
    pred, gt = synthetic_pair(args)
    options = dict(BOUNDARY_PROTOCOLS[args.protocol])
    thresholds = _as_thresholds(args.thresholds)
    # compile (or load from numba's cache) the kernels outside the timing
    boundary_pr_counts(pred[:16, :16], gt[:16, :16], 3, **options)

    start, start_cpu = time.perf_counter(), time.process_time()
    counts = boundary_pr_counts(pred, gt, thresholds, max_dist=args.max_dist,
                                **options)
    fast_wall = time.perf_counter() - start
    fast = time.process_time() - start_cpu

    distinct = distinct_maps(pred, options, thresholds)
    step = max(1, len(distinct) // max(1, args.reference_thresholds))
    picks = distinct[::step][:args.reference_thresholds]
    start = time.process_time()
    reference = reference_counts(pred, gt, options, thresholds,
                                 args.max_dist, picks)
    ref_time = time.process_time() - start
    ref_per_map = ref_time / len(picks)
    ref_total = ref_per_map * len(distinct)
    for k, expected in reference.items():
        if tuple(counts[k]) != expected:
            raise SystemExit(f'MISMATCH at threshold {thresholds[k]:.3f}: '
                             f'fast {tuple(counts[k])}, reference {expected}')

    print(f'image {args.height}x{args.width}, kind {args.kind}, protocol '
          f'{args.protocol}, max_dist {args.max_dist}, '
          f'{len(thresholds)} thresholds ({len(distinct)} distinct maps), '
          f'{int(gt.sum())} GT pixels, up to {int(counts[:, 3].max())} '
          f'predicted pixels after thinning')
    print(f'fast exact protocol      : {fast:8.2f} CPU s per image '
          f'({fast_wall:.2f} s wall)')
    print(f'reference (per threshold): {ref_per_map:8.2f} CPU s per map, '
          f'{ref_total:8.2f} CPU s per image '
          f'({len(picks)} maps timed, extrapolated to {len(distinct)})')
    print(f'ratio reference / fast   : {ref_total / fast:8.1f}x')
    print(f'counts agree at the {len(picks)} reference thresholds')


if __name__ == '__main__':
    main()
