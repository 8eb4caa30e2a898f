# Copyright (c) mmmtl contributors. All rights reserved.
"""Boundary (edge) precision/recall counts, ODS-F, OIS-F and AP.

A Python re-implementation of the protocol that the multi-task literature
runs through the MATLAB SEISM package (Pont-Tuset & Marques), itself built
on the BSDS benchmark (``edgesEvalImg`` / ``correspondPixels``):

1. The prediction (probabilities in [0, 1]) is non-maximum suppressed
   (:func:`edge_nms`, the structured-edge NMS SEISM's ``read_one_cont_png``
   applies: orientation from second derivatives of a triangle-smoothed map,
   suppression radius 1, boundary suppression 5 px, multiplier 1.01).
2. For each threshold ``t`` (99 thresholds ``0.01 .. 0.99`` by default) the
   NMS map is binarised (``> t``) and thinned (:func:`~mmmtl.utils.
   boundary_morphology.thin`, MATLAB ``bwmorph(.., 'thin', Inf)``).
   The ground truth is thinned once.
3. Predicted and ground-truth boundary pixels are matched one-to-one within
   ``max_dist * diagonal`` pixels (Euclidean, inclusive). This gives per
   image and threshold ``cntR`` (matched GT pixels), ``sumR`` (GT pixels),
   ``cntP`` (matched predicted pixels) and ``sumP`` (predicted pixels).
4. ODS: counts summed over the dataset per threshold, ``P = cntP / sumP``,
   ``R = cntR / sumR``, ``F = 2PR / (P + R)``, maximum over thresholds.
   OIS: per image the threshold with the best F, those counts summed, F.
   AP: area under the dataset PR curve sampled at recall 0, 0.01, .., 1
   (linear interpolation, SEISM's ``general_ap``).

``max_dist`` is 0.0075 for PASCAL-Context (SEISM's default) and 0.011 for
NYUD-v2, the values used by ATRC / InvPT and later multi-task papers.

Matching (step 3) has two implementations:

* ``'distance'`` (default): a documented approximation of BSDS's
  ``correspondPixels``: a predicted pixel counts as matched when *some*
  ground-truth pixel lies within the tolerance, and a ground-truth pixel
  when some predicted pixel does (many-to-one; computed with a disk
  dilation of each map, a few ms per threshold at 480x640). It never counts
  fewer matches than the one-to-one matching, so precision and recall are
  upper bounds of SEISM's: the gap is zero when every predicted edge has
  its own GT edge and grows with double or jittered predicted edges (two
  parallel predicted lines can both match one GT line; tested in
  ``tests/test_evaluation/test_boundary_f.py``, F = 1 instead of 2/3).
* ``'bipartite'``: an exact maximum-cardinality one-to-one matching between
  the two pixel sets, edges joining pixels at most ``max_dist * diagonal``
  apart (Hopcroft-Karp, :func:`scipy.sparse.csgraph.
  maximum_bipartite_matching`). BSDS's ``correspondPixels`` solves a
  min-cost assignment in which leaving a pixel unmatched costs more than any
  allowed match, so its number of matches is this maximum as well (it also
  minimises the total distance, which changes which pixels are matched, not
  how many; its sparse outlier graph is itself an approximation).
  :func:`boundary_pr_counts` solves all thresholds of an image together
  (:class:`~mmmtl.evaluation.functional.boundary_matching.
  IncrementalMatcher`: the graph is built once, a compiled Hopcroft-Karp
  starts from the previous threshold's matching), about 1 s of one CPU
  core for the 99 thresholds of a 480x640 image
  (``tools/analysis_tools/benchmark_boundary_f.py``);
  :func:`match_boundaries` is the per-threshold SciPy reference.

The named protocols of :data:`BOUNDARY_PROTOCOLS` fix how the prediction
is read (8-bit PNG, NMS or not, ``>`` or ``>=``), as the published
evaluators do.

Ignored pixels (``ignore_index`` in the ground truth, e.g. padding) are
removed from both maps before thinning/matching; SEISM has no ignore value.

Everything is accumulated as integer counts of shape ``(K, 4)`` per image,
so memory is constant in the dataset size and results are exact when the
counts of several processes are summed.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from scipy import ndimage

from .boundary_kernels import thin_fast
from .boundary_matching import (IncrementalMatcher, disk_offsets,
                                maximum_matching_size, neighbour_graph)

#: Default maximum matching distance as a fraction of the image diagonal
#: per dataset (SEISM default / ATRC-InvPT NYUD setting).
MAX_DIST = dict(pascal_context=0.0075, nyud=0.011, default=0.0075)

#: Column order of the count arrays.
COUNT_FIELDS = ('cntR', 'sumR', 'cntP', 'sumP')

#: Named protocols: how the published evaluators read a prediction. Both
#: read the 8-bit PNG the test loop wrote (``uint8(255 * p)``, truncated:
#: ``quantize=True``) and thin the binarised map and the ground truth
#: (``edgesEvalImg``); matching is the exact one-to-one correspondence.
#:
#: * ``'seism'``: SEISM's ``read_one_cont_png`` as ATRC, InvPT and their
#:   successors run it: structured-edge NMS, then ``> t``.
#: * ``'toolbox'``: the MTI-Net / ASTMT toolbox's ``read_one_png``: no NMS,
#:   ``>= t`` on ``double(png) / 255``.
BOUNDARY_PROTOCOLS: Dict[str, dict] = dict(
    seism=dict(nms=True, comparison='>', quantize=True, thin_pred=True,
               thin_gt=True, matching='bipartite'),
    toolbox=dict(nms=False, comparison='>=', quantize=True, thin_pred=True,
                 thin_gt=True, matching='bipartite'),
)


def protocol_options(protocol: Optional[str], **overrides) -> dict:
    """Options of :func:`boundary_pr_counts` for a named protocol.

    Args:
        protocol (str, optional): A key of :data:`BOUNDARY_PROTOCOLS`, or
            ``None`` for the function defaults.
        **overrides: Options replacing the protocol's (``None`` values are
            ignored), e.g. ``matching='distance'`` for a fast validation
            estimate.

    Returns:
        dict: Keyword arguments of :func:`boundary_pr_counts`.
    """
    if protocol is None:
        options = {}
    elif protocol in BOUNDARY_PROTOCOLS:
        options = dict(BOUNDARY_PROTOCOLS[protocol])
    else:
        raise ValueError(f'boundary protocol must be one of '
                         f'{sorted(BOUNDARY_PROTOCOLS)} or None, got '
                         f'{protocol!r}')
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def quantize_png(prob: np.ndarray) -> np.ndarray:
    """The map as the evaluators read it back from an 8-bit PNG.

    The test loops write ``(255 * p).astype(np.uint8)`` (truncation) and
    SEISM reads ``png / 255``.

    Args:
        prob (np.ndarray): (H, W) probabilities in [0, 1].

    Returns:
        np.ndarray: (H, W) float64 values ``k / 255``.
    """
    prob = np.asarray(prob, dtype=np.float32)
    levels = np.floor(prob * np.float32(255)).clip(0, 255)
    return levels.astype(np.float64) / 255.0


def default_thresholds(num: int = 99) -> np.ndarray:
    """``num`` thresholds ``k / (num+1)``, ``k = 1..num`` (0.01..0.99 for 99).

    Each value is the correctly rounded quotient, so for 99 thresholds they
    are bit for bit the doubles MATLAB reads from SEISM's parameter file
    (``'%.2f'``), which matters where an 8-bit value ``k / 255`` equals a
    threshold (0.2, 0.4, 0.6, 0.8).
    """
    if num < 1:
        raise ValueError(f'number of thresholds must be >= 1, got {num}')
    return np.arange(1, num + 1, dtype=np.float64) / (num + 1)


def _as_thresholds(thresholds: Union[int, Sequence[float]]) -> np.ndarray:
    if isinstance(thresholds, (int, np.integer)):
        return default_thresholds(int(thresholds))
    values = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if values.size == 0 or np.any(np.diff(values) <= 0):
        raise ValueError('thresholds must be a non-empty increasing '
                         f'sequence, got {values.tolist()}')
    return values


# --------------------------------------------------------------------------
# Non-maximum suppression (Piotr Dollar's edgesNms as SEISM applies it)
# --------------------------------------------------------------------------
def _conv_tri(image: np.ndarray, radius: int) -> np.ndarray:
    """Separable triangle filter of integer ``radius`` (symmetric padding)."""
    if radius <= 0:
        return image
    kernel = np.concatenate([np.arange(1, radius + 2),
                             np.arange(radius, 0, -1)]).astype(np.float64)
    kernel /= kernel.sum()
    out = ndimage.convolve1d(image, kernel, axis=0, mode='reflect')
    return ndimage.convolve1d(out, kernel, axis=1, mode='reflect')


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples at (x, y), coordinates clamped like edgesNmsMex."""
    h, w = image.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0 = x.astype(np.int64)
    y0 = y.astype(np.int64)
    dx = x - x0
    dy = y - y0
    return (image[y0, x0] * (1 - dx) * (1 - dy) +
            image[y0, x0 + 1] * dx * (1 - dy) +
            image[y0 + 1, x0] * (1 - dx) * dy +
            image[y0 + 1, x0 + 1] * dx * dy)


def edge_nms(prob: np.ndarray, radius: int = 1, border: int = 5,
             multiplier: float = 1.01, smooth_radius: int = 4) -> np.ndarray:
    """Non-maximum suppression of an edge probability map.

    The orientation ``O = mod(atan(Oyy * sign(-Oxy) / (Oxx + 1e-5)), pi)``
    comes from second derivatives of the map smoothed by a triangle filter
    of radius ``smooth_radius``; a pixel is kept when ``multiplier *
    E(p)`` is not below the bilinearly interpolated ``E`` at distance
    ``1..radius`` on both sides along ``(cos O, sin O)``; values within
    ``border`` pixels of the image border are attenuated linearly.

    Args:
        prob (np.ndarray): (H, W) edge probabilities in [0, 1].
        radius (int): Suppression radius.
        border (int): Width of the attenuated border.
        multiplier (float): Tolerance factor on the centre value.
        smooth_radius (int): Triangle filter radius for the orientation.

    Returns:
        np.ndarray: (H, W) float64 suppressed map.
    """
    edges = np.asarray(prob, dtype=np.float64)
    if edges.ndim != 2:
        raise ValueError(f'edge_nms expects (H, W), got {edges.shape}')
    h, w = edges.shape
    smooth = _conv_tri(edges, smooth_radius)
    oy, ox = np.gradient(smooth) if min(h, w) > 1 else (smooth * 0,
                                                         smooth * 0)
    oxx = np.gradient(ox, axis=1)
    oxy, oyy = np.gradient(oy, axis=1), np.gradient(oy, axis=0)
    orient = np.mod(np.arctan(oyy * np.sign(-oxy) / (oxx + 1e-5)), np.pi)
    out = edges.copy()
    ys, xs = np.nonzero(edges)
    if ys.size:
        centre = edges[ys, xs] * multiplier
        cos_o, sin_o = np.cos(orient[ys, xs]), np.sin(orient[ys, xs])
        suppress = np.zeros(ys.size, dtype=bool)
        for d in range(-radius, radius + 1):
            if d == 0:
                continue
            neighbour = _bilinear(edges, xs + d * cos_o, ys + d * sin_o)
            suppress |= centre < neighbour
        out[ys[suppress], xs[suppress]] = 0.0
    s = min(border, w // 2, h // 2)
    if s > 0:
        ramp = np.arange(s, dtype=np.float64) / s
        out[:, :s] *= ramp[None, :]
        out[:, w - s:] *= ramp[None, ::-1]
        out[:s, :] *= ramp[:, None]
        out[h - s:, :] *= ramp[::-1, None]
    return out


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------
def _disk_kernel(radius: float) -> np.ndarray:
    """uint8 structuring element of the offsets of :func:`disk_offsets`."""
    offsets = disk_offsets(radius)
    r = int(np.floor(radius))
    kernel = np.zeros((2 * r + 1, 2 * r + 1), dtype=np.uint8)
    kernel[offsets[:, 0] + r, offsets[:, 1] + r] = 1
    return kernel


def near(binary: np.ndarray, max_dist_px: float) -> np.ndarray:
    """Pixels within ``max_dist_px`` (Euclidean, inclusive) of ``binary``."""
    if not binary.any():
        return np.zeros_like(binary, dtype=bool)
    return cv2.dilate(binary.astype(np.uint8),
                      _disk_kernel(max_dist_px)).astype(bool)


def match_boundaries(pred: np.ndarray, gt: np.ndarray, max_dist_px: float,
                     method: str = 'distance',
                     near_gt: Optional[np.ndarray] = None) -> Tuple[int, int]:
    """Number of matched predicted and matched ground-truth pixels.

    Args:
        pred (np.ndarray): (H, W) bool thin predicted boundary.
        gt (np.ndarray): (H, W) bool thin ground-truth boundary.
        max_dist_px (float): Matching tolerance in pixels (inclusive).
        method (str): ``'distance'`` (many-to-one: a pixel matches when the
            other map has a pixel within the tolerance) or ``'bipartite'``
            (one-to-one, exact maximum matching; slow on dense maps).
        near_gt (np.ndarray, optional): Precomputed ``near(gt,
            max_dist_px)`` (the ground truth is the same at every
            threshold).

    Returns:
        tuple[int, int]: ``(cntP, cntR)``; equal for ``'bipartite'``.
    """
    if method not in ('bipartite', 'distance'):
        raise ValueError(f"matching must be 'bipartite' or 'distance', got "
                         f'{method!r}')
    if not pred.any() or not gt.any():
        return 0, 0
    # Pixels with no partner within the tolerance can never match.
    if near_gt is None:
        near_gt = near(gt, max_dist_px)
    pred_cand = pred & near_gt
    gt_cand = gt & near(pred, max_dist_px)
    if method == 'distance':
        return int(pred_cand.sum()), int(gt_cand.sum())
    if not pred_cand.any():
        return 0, 0
    gt_index = np.full(gt.shape, -1, dtype=np.int64)
    gy, gx = np.nonzero(gt_cand)
    gt_index[gy, gx] = np.arange(gy.size)
    matched = maximum_matching_size(
        neighbour_graph(np.nonzero(pred_cand), gt_index, max_dist_px))
    return matched, matched


# --------------------------------------------------------------------------
# Per-image counts
# --------------------------------------------------------------------------
def boundary_pr_counts(pred: np.ndarray,
                       gt: np.ndarray,
                       thresholds: Union[int, Sequence[float]] = 99,
                       max_dist: float = 0.0075,
                       nms: bool = True,
                       thin_pred: bool = True,
                       thin_gt: bool = True,
                       matching: str = 'distance',
                       ignore_index: Optional[int] = 255,
                       comparison: str = '>',
                       quantize: bool = False) -> np.ndarray:
    """Boundary counts of one image at every threshold.

    :data:`BOUNDARY_PROTOCOLS` names the option sets of the published
    evaluators (:func:`protocol_options`).

    Args:
        pred (np.ndarray): (H, W) edge probabilities in [0, 1].
        gt (np.ndarray): (H, W) ground truth, non-zero = boundary,
            ``ignore_index`` = ignored.
        thresholds (int | Sequence[float]): Number of thresholds (99 gives
            0.01..0.99) or the increasing thresholds; a pixel is predicted
            when its (NMS) value is ``> t`` (``comparison``).
        max_dist (float): Tolerance as a fraction of the image diagonal.
        nms (bool): Apply :func:`edge_nms` first (SEISM does).
        thin_pred (bool): Thin each binarised prediction (BSDS ``thin=1``).
        thin_gt (bool): Thin the ground truth (BSDS thins it).
        matching (str): ``'distance'`` (default; a fast upper-bound
            approximation for validation during training) or
            ``'bipartite'`` (exact one-to-one, for reported numbers; solved
            for all thresholds at once by :class:`~mmmtl.evaluation.
            functional.boundary_matching.IncrementalMatcher`).
        ignore_index (int, optional): Ground-truth value of ignored pixels.
        comparison (str): ``'>'`` (SEISM ``read_one_cont_png``) or ``'>='``
            (the toolbox's ``read_one_png``).
        quantize (bool): Read the map as the 8-bit PNG the evaluators read
            (:func:`quantize_png`) before NMS and thresholding.

    Returns:
        np.ndarray: (K, 4) int64 counts, columns :data:`COUNT_FIELDS`.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt)
    if pred.shape != gt.shape or pred.ndim != 2:
        raise ValueError(f'pred and gt must be (H, W) of the same shape, got '
                         f'{pred.shape} and {gt.shape}')
    thresholds = _as_thresholds(thresholds)
    if comparison not in ('>', '>='):
        raise ValueError(f"comparison must be '>' or '>=', got "
                         f'{comparison!r}')
    if matching not in ('bipartite', 'distance'):
        raise ValueError(f"matching must be 'bipartite' or 'distance', got "
                         f'{matching!r}')
    if quantize:
        pred = quantize_png(pred)
    valid = np.ones(gt.shape, dtype=bool) if ignore_index is None else \
        gt != ignore_index
    gt_bin = (gt != 0) & valid
    if thin_gt:
        gt_bin = thin_fast(gt_bin)
    values = edge_nms(pred) if nms else pred
    values = np.where(valid, values, 0.0)
    max_dist_px = max_dist * float(np.hypot(*gt.shape))
    counts = np.zeros((thresholds.size, 4), dtype=np.int64)
    sum_r = int(gt_bin.sum())
    near_gt = near(gt_bin, max_dist_px)
    matcher = IncrementalMatcher(gt_bin, max_dist_px, near_gt) \
        if matching == 'bipartite' else None
    previous_key, previous = None, None
    for k, t in enumerate(thresholds):
        binary = values > t if comparison == '>' else values >= t
        key = int(binary.sum())
        # Nested maps with equal pixel counts are identical: reuse.
        if key != previous_key:
            if thin_pred:
                binary = thin_fast(binary)
            if matcher is None:
                cnt_p, cnt_r = match_boundaries(binary, gt_bin, max_dist_px,
                                                matching, near_gt)
            else:
                cnt_p = cnt_r = matcher.count(binary)
            previous = (cnt_r, sum_r, cnt_p, int(binary.sum()))
            previous_key = key
        counts[k] = previous
    return counts


# --------------------------------------------------------------------------
# Scores from counts
# --------------------------------------------------------------------------
def _precision_recall(counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """SEISM's ``gather_measure`` conventions, vectorised over rows."""
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, 4)
    cnt_r, sum_r, cnt_p, sum_p = counts.T
    rec = np.zeros(len(counts))
    prec = np.zeros(len(counts))
    no_gt = (sum_r == 0) & (cnt_p == 0)
    rec[no_gt], prec[no_gt] = 1.0, 0.0
    no_pred = (sum_p == 0) & (cnt_r == 0)
    rec[no_pred], prec[no_pred] = 0.0, 1.0
    ok = (sum_p != 0) & (cnt_r != 0)
    rec[ok] = cnt_r[ok] / sum_r[ok]
    prec[ok] = cnt_p[ok] / sum_p[ok]
    return prec, rec


def f_measure(prec: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """``2PR / (P + R)``, 0 where ``P + R = 0``."""
    prec, rec = np.asarray(prec, float), np.asarray(rec, float)
    denom = prec + rec
    return np.where(denom > 0, 2 * prec * rec / np.maximum(denom, 1e-300),
                    0.0)


def best_image_counts(counts: np.ndarray) -> np.ndarray:
    """Counts of one image at its own best-F threshold (for OIS).

    Args:
        counts (np.ndarray): (K, 4) counts of one image.

    Returns:
        np.ndarray: (4,) counts (first threshold on ties, as MATLAB max).
    """
    prec, rec = _per_image_precision_recall(counts)
    return np.asarray(counts)[int(np.argmax(f_measure(prec, rec)))]


def _per_image_precision_recall(counts: np.ndarray):
    """``eval_cont`` conventions for a single image's rows."""
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, 4)
    cnt_r, sum_r, cnt_p, sum_p = counts.T
    rec = np.where(sum_r == 0, 1.0, 0.0)
    prec = np.zeros(len(counts))
    no_pred = (sum_r != 0) & (sum_p == 0)
    rec[no_pred], prec[no_pred] = 0.0, 1.0
    ok = (sum_r != 0) & (sum_p != 0)
    rec[ok] = cnt_r[ok] / sum_r[ok]
    prec[ok] = cnt_p[ok] / sum_p[ok]
    return prec, rec


def boundary_scores(total_counts: np.ndarray,
                    ois_counts: Optional[np.ndarray] = None,
                    thresholds: Union[int, Sequence[float]] = 99) -> \
        Dict[str, float]:
    """ODS-F, OIS-F and AP from accumulated counts.

    Args:
        total_counts (np.ndarray): (K, 4) counts summed over images.
        ois_counts (np.ndarray, optional): (4,) sum over images of
            :func:`best_image_counts`; gives ``oisF`` when present.
        thresholds (int | Sequence[float]): The thresholds, to report the
            ODS threshold.

    Returns:
        dict[str, float]: ``odsF``, ``ods_precision``, ``ods_recall``,
        ``ods_threshold``, ``AP`` and ``oisF`` (when ``ois_counts`` given),
        all in [0, 1].
    """
    thresholds = _as_thresholds(thresholds)
    prec, rec = _precision_recall(total_counts)
    f = f_measure(prec, rec)
    best = int(np.argmax(f))
    scores = dict(odsF=float(f[best]), ods_precision=float(prec[best]),
                  ods_recall=float(rec[best]),
                  ods_threshold=float(thresholds[best]),
                  AP=average_precision(prec, rec))
    if ois_counts is not None:
        p, r = _precision_recall(np.asarray(ois_counts)[None])
        scores['oisF'] = float(f_measure(p, r)[0])
    return scores


def average_precision(prec: np.ndarray, rec: np.ndarray) -> float:
    """SEISM ``general_ap``: mean precision at recall 0, 0.01, .., 1.

    Duplicate recalls keep their first occurrence; the PR curve is linearly
    interpolated; recall samples outside the curve's range are skipped (but
    the sum is still divided by 100).
    """
    rec = np.asarray(rec, float)
    prec = np.asarray(prec, float)
    _, first = np.unique(rec, return_index=True)
    if first.size < 2:
        return 0.0
    r, p = rec[first], prec[first]
    order = np.argsort(r)
    r, p = r[order], p[order]
    grid = np.linspace(0, 1, 101)
    inside = (grid >= r[0]) & (grid <= r[-1])
    return float(np.interp(grid[inside], r, p).sum() / 100)


class BoundaryFAccumulator:
    """Constant-memory accumulator of boundary counts over a dataset.

    Example::

        acc = BoundaryFAccumulator(max_dist=0.011)
        for prob, gt in samples:
            acc.update(prob, gt)
        acc.compute()  # {'odsF': ..., 'oisF': ..., 'AP': ...}

    Under distributed evaluation, sum :attr:`total` and :attr:`ois` over
    processes (e.g. with ``mmengine.dist.all_reduce``) before
    :meth:`compute`.

    Args:
        thresholds (int | Sequence[float]): See :func:`boundary_pr_counts`.
        **kwargs: Other arguments of :func:`boundary_pr_counts`
            (``max_dist``, ``nms``, ``matching``, ...).
    """

    def __init__(self, thresholds: Union[int, Sequence[float]] = 99,
                 **kwargs):
        self.thresholds = _as_thresholds(thresholds)
        self.kwargs = kwargs
        self.total = np.zeros((self.thresholds.size, 4), dtype=np.int64)
        self.ois = np.zeros(4, dtype=np.int64)
        self.num_images = 0

    def update(self, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
        """Add one image; returns its (K, 4) counts."""
        counts = boundary_pr_counts(pred, gt, self.thresholds, **self.kwargs)
        self.total += counts
        self.ois += best_image_counts(counts)
        self.num_images += 1
        return counts

    def compute(self) -> Dict[str, float]:
        """Scores of everything added so far (see :func:`boundary_scores`)."""
        return boundary_scores(self.total, self.ois, self.thresholds)
