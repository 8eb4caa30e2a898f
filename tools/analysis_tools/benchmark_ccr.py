# Copyright (c) mmmtl contributors. All rights reserved.
"""Time and peak memory of the CCR loss: vectorised vs per-anchor loops.

Measures, side by side in one run, one CCR iteration (forward + backward of
the triplet terms of every selected task pair, projector excluded) of

* ``fast``: :mod:`mmmtl.models.losses.triplet_mining` (batched over images
  and anchors),
* ``ordinary``: the way one would ordinarily write it: mining anchor by
  anchor without autograd (:func:`mmmtl.testing.ccr_reference.
  reference_mining`, vectorised over pixels), then one batched loss over
  all mined triplets, and
* ``loop``: :func:`mmmtl.testing.ccr_reference.reference_pair_loss` (the
  same mining, then the loss anchor by anchor with autograd),

on the same random draw (same features, labels and anchors) and checks
that all give the same loss (the same triplets: label ties are broken by
pixel index in every implementation). Defaults are the NYUD-v2 setting of the
CCR paper: 1/4 of 480x640 (120x160 features), 3 tasks, 256 channels, batch 4,
gamma 0.01 (192 anchors per image), k 128, 16 negatives; each target task
uses one source task (contrastive task-pair selection).

Peak memory: ``torch.cuda.max_memory_allocated`` on a GPU; on the CPU each
implementation runs in a fresh subprocess and the increase of the peak
resident set size over the process's state after setup is reported.

Example::

    python tools/analysis_tools/benchmark_ccr.py --repeat 3
"""
import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

from mmmtl.models.losses.triplet_mining import (mine_triplets, pair_masks,
                                                sample_anchors,
                                                triplet_loss_terms)
from mmmtl.structures import TASKS, valid_mask
from mmmtl.testing.ccr_reference import (reference_mining,
                                         reference_pair_loss)

#: (target, source) pairs of one iteration with task-pair selection.
PAIRS = [('semseg', 'depth'), ('depth', 'normals'), ('normals', 'semseg')]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--height', type=int, default=120)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--ratio', type=float, default=0.01)
    parser.add_argument('--topk', type=int, default=128)
    parser.add_argument('--negatives', type=int, default=16)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed iterations before timing')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    parser.add_argument('--only', choices=['fast', 'ordinary', 'loop'],
                        help=argparse.SUPPRESS)  # subprocess mode
    return parser.parse_args()


def make_inputs(args) -> Dict[str, Tuple]:
    """Features, labels and anchors of each pair (seeded)."""
    g = torch.Generator().manual_seed(0)
    b, h, w = args.batch, args.height, args.width
    # blocky label maps, like real scenes at 1/4 resolution
    sem = torch.randint(0, 40, (b, 1, h // 8 + 1, w // 8 + 1), generator=g)
    sem = F.interpolate(sem.float(), scale_factor=8)[..., :h, :w].long()
    sem[torch.rand(b, 1, h, w, generator=g) < 0.1] = 255
    depth = F.interpolate(torch.rand(b, 1, h // 8, w // 8, generator=g) * 5,
                          size=(h, w), mode='bilinear') + 0.5
    depth[torch.rand(b, 1, h, w, generator=g) < 0.05] = 0.0
    normals = F.normalize(F.interpolate(
        torch.randn(b, 3, h // 8, w // 8, generator=g), size=(h, w),
        mode='bilinear'), dim=1)
    gts = dict(semseg=sem, depth=depth, normals=normals)
    inputs = {}
    for target, source in PAIRS:
        feats = torch.randn(b, args.channels, h, w, generator=g)
        feats /= feats.norm(dim=1, keepdim=True)  # in place: low setup peak
        spec = TASKS[source]
        valid = valid_mask(gts[source], spec)[:, 0].flatten(1)
        anchors, ok = sample_anchors(valid, round(args.ratio * h * w),
                                     generator=g)
        inputs[target] = (feats, gts[source], spec, anchors, ok)
    return inputs


def fast_loss(feats, gt, spec, anchors, ok, args):
    pix = feats.flatten(2).transpose(1, 2)
    labels = gt.flatten(2).transpose(1, 2)
    valid = valid_mask(gt, spec)[:, 0].flatten(1)
    pos, neg = pair_masks(labels, valid, anchors, ok, spec, args.topk)
    mined = mine_triplets(pix, anchors, pos, neg, args.negatives)
    total, count = triplet_loss_terms(pix, anchors, ok, *mined, margin=0.2)
    return total / count.clamp(min=1)


def loop_loss(feats, gt, spec, anchors, ok, args):
    return reference_pair_loss(feats, gt, spec, anchors, ok, args.topk,
                               args.negatives, 0.2)


def ordinary_loss(feats, gt, spec, anchors, ok, args):
    """Per-anchor mining, then one batched hinge over all triplets."""
    triplets = reference_mining(feats, gt, spec, anchors, ok, args.topk,
                                args.negatives)
    if not triplets:
        return feats.sum() * 0.0
    pix = feats.flatten(2).transpose(1, 2)  # (B, L, C)
    img = torch.tensor([t[0] for t in triplets])
    a = torch.tensor([t[1] for t in triplets])
    p = torch.tensor([t[2] for t in triplets])
    k = max(len(t[3]) for t in triplets)
    neg = torch.zeros(len(triplets), k, dtype=torch.long)
    neg_ok = torch.zeros(len(triplets), k, dtype=torch.bool)
    for row, t in enumerate(triplets):
        neg[row, :len(t[3])] = t[3]
        neg_ok[row, :len(t[3])] = True
    f_a, f_p = pix[img, a], pix[img, p]  # (T, C)
    f_n = pix[img[:, None], neg]  # (T, K, C)
    d_ap = (f_a - f_p).pow(2).sum(-1)
    d_an = (f_a[:, None] - f_n).pow(2).sum(-1)
    hinge = F.relu(d_ap[:, None] - d_an + 0.2) * neg_ok
    return (hinge.sum(1) / neg_ok.sum(1)).mean()


IMPLEMENTATIONS = dict(fast=fast_loss, ordinary=ordinary_loss, loop=loop_loss)


def one_iteration(impl, inputs, args) -> float:
    fn = IMPLEMENTATIONS[impl]
    total = 0.0
    for target, (feats, gt, spec, anchors, ok) in inputs.items():
        feats = feats.clone().requires_grad_(True)
        loss = fn(feats, gt, spec, anchors, ok, args)
        loss.backward()
        total += loss.item()
    return total


def to_device(inputs, device):
    return {
        t: tuple(x.to(device) if torch.is_tensor(x) else x for x in v)
        for t, v in inputs.items()
    }


def measure(impl: str, args) -> Dict[str, float]:
    inputs = to_device(make_inputs(args), args.device)
    cuda = args.device.startswith('cuda')
    # CPU: peak RSS is a lifetime maximum, so the baseline is taken before
    # the first iteration (inputs already built)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(args.warmup):
        one_iteration(impl, inputs, args)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times: List[float] = []
    for _ in range(args.repeat):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        value = one_iteration(impl, inputs, args)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if cuda:
        peak_mb = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:  # ru_maxrss is in KiB on Linux
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                   base) / 1024
    return dict(time=min(times), peak_mb=peak_mb, loss=value)


def run_isolated(impl: str) -> Dict[str, float]:
    """Measure in a fresh process so CPU peak RSS is not shared."""
    cmd = [sys.executable, __file__, '--only', impl] + [
        a for a in sys.argv[1:]
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.only:
        print(json.dumps(measure(args.only, args)))
        return
    cuda = args.device.startswith('cuda')
    results = {
        impl: measure(impl, args) if cuda else run_isolated(impl)
        for impl in ('loop', 'ordinary', 'fast')
    }
    fast, loop = results['fast'], results['loop']
    ordinary = results['ordinary']
    anchors = round(args.ratio * args.height * args.width)
    print(f'CCR loss, {len(PAIRS)} task pairs, batch {args.batch}, '
          f'{args.height}x{args.width} features x {args.channels} ch, '
          f'{anchors} anchors/image, k={args.topk}, '
          f'{args.negatives} negatives, device {args.device}, '
          f'{torch.get_num_threads()} threads, best of {args.repeat}')
    print(f'{"impl":<9}{"fwd+bwd s/iter":>16}{"peak MiB":>12}{"loss":>14}')
    for impl in ('loop', 'ordinary', 'fast'):
        r = results[impl]
        print(f'{impl:<9}{r["time"]:>16.4f}{r["peak_mb"]:>12.1f}'
              f'{r["loss"]:>14.8f}')
    print(f'speed-up of fast: {ordinary["time"] / fast["time"]:.1f}x vs '
          f'ordinary (per-anchor mining, one batched loss), '
          f'{loop["time"] / fast["time"]:.1f}x vs loop (autograd per '
          f'anchor); |loss difference| vs ordinary: '
          f'{abs(ordinary["loss"] - fast["loss"]):.2e}, vs loop: '
          f'{abs(loop["loss"] - fast["loss"]):.2e}')


if __name__ == '__main__':
    main()
