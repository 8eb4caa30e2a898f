# Copyright (c) mmmtl contributors. All rights reserved.
"""Pixel triplet mining for cross-task contrastive regularisation (CCR).

Functions here are batched over images and anchors (no Python loop over
either) and are shared by :class:`~mmmtl.models.losses.cross_task_triplet_loss.
CrossTaskTripletLoss` and the benchmark script. Shapes use

* ``B`` images, ``L`` = ``h * w`` pixels of the feature map,
* ``A`` anchors per image, ``C`` feature channels,
* ``K`` negatives per anchor.

The positive / negative definition comes from one *source* task's ground
truth (downsampled to the *target* feature map), the distances from the
target task's projected, L2-normalised features. The only tensors of size
``A x L`` per image are the feature-distance matrix and the two bool masks
(the paper's ``M in R^{C_A x HW}``).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmmtl.structures import TaskSpec

#: Squared L2 distances of unit vectors lie in [0, 4]; the semi-hard key of
#: the fallback negatives is offset beyond that range (see
#: :func:`mine_triplets`).
_MAX_SQ_DIST = 4.0
_FALLBACK_OFFSET = 2 * _MAX_SQ_DIST

POSITIVE_MINING = ('hardest', 'random')
#: Feature distance ``D`` of the triplet loss: squared or plain Euclidean.
TRIPLET_DISTANCES = ('squared', 'l2')
NEGATIVE_MINING = ('semi_hard', 'random')


def promote_half(x: Tensor) -> Tensor:
    """Half / bfloat16 tensors as float32 (distances need the precision);
    float32 and float64 unchanged."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def downsample_gt(gt: Tensor, size: Tuple[int, int]) -> Tensor:
    """Downsample a (B, C, H, W) ground-truth map to ``size`` = (h, w).

    Every task kind uses nearest-neighbour sampling at the centre of each
    output cell (``mode='nearest-exact'``): labels stay labels, invalid
    (ignore / zero) pixels are never blended with valid ones and unit
    normals stay unit. (The paper only says the ground truth is
    "downsampled to match the resolution" of the projection map.)

    Args:
        gt (Tensor): (B, C, H, W) ground truth of any dtype.
        size (tuple[int, int]): Target (h, w).

    Returns:
        Tensor: (B, C, h, w) of ``gt``'s dtype.
    """
    if tuple(gt.shape[2:]) == tuple(size):
        return gt
    out = F.interpolate(gt.float(), size=tuple(size), mode='nearest-exact')
    return out.to(gt.dtype)


def sample_anchors(valid: Tensor, num_anchors: int,
                   generator: Optional[torch.Generator] = None
                   ) -> Tuple[Tensor, Tensor]:
    """Sample ``num_anchors`` distinct valid pixels per image, uniformly.

    Args:
        valid (Tensor): (B, L) bool, pixels whose source label is valid.
        num_anchors (int): Anchors per image (``C_A = gamma * h * w``).
        generator (torch.Generator, optional): RNG on ``valid``'s device;
            the global RNG when ``None``.

    Returns:
        tuple[Tensor, Tensor]: ``anchors`` (B, A) long pixel indices with
        ``A = min(num_anchors, L)`` and ``anchor_ok`` (B, A) bool, False for
        the slots of an image with fewer than ``A`` valid pixels.
    """
    num = min(int(num_anchors), valid.shape[1])
    scores = torch.rand(valid.shape, generator=generator,
                        device=valid.device)
    scores = scores.masked_fill(~valid, -1.0)
    top, anchors = scores.topk(num, dim=1)
    return anchors, top >= 0


def _gather_pixels(x: Tensor, index: Tensor) -> Tensor:
    """x (B, L, C), index (B, ...) -> (B, ..., C).

    When ``x`` is the usual ``(B, C, L) -> (B, L, C)`` transposed view of a
    feature map, the gather runs on the contiguous layout (its backward
    scatter is about twice as fast on the CPU).
    """
    b, _, c = x.shape
    flat = index.reshape(b, -1)
    channels_first = x.transpose(1, 2)
    if channels_first.is_contiguous():
        out = channels_first.gather(
            2, flat.unsqueeze(1).expand(-1, c, -1)).transpose(1, 2)
    else:
        out = x.gather(1, flat.unsqueeze(-1).expand(-1, -1, c))
    return out.reshape(*index.shape, c)


def label_distance(labels: Tensor, anchors: Tensor, spec: TaskSpec) -> Tensor:
    """Distance in a continuous task's label space, anchors to all pixels.

    Depth-like tasks use the L1 distance summed over channels; tasks with
    unit vectors (``spec.unit_norm``, surface normals) use ``-cos`` of the
    angle, which orders pixels exactly as the angular error does (arccos is
    strictly decreasing) without evaluating arccos on ``A x L`` entries.

    Args:
        labels (Tensor): (B, L, C_l) float labels.
        anchors (Tensor): (B, A) anchor pixel indices.
        spec (TaskSpec): The (continuous) source task.

    Returns:
        Tensor: (B, A, L) distances (smaller = more similar).
    """
    anchor_labels = _gather_pixels(labels, anchors)  # (B, A, C_l)
    if spec.unit_norm:
        return -torch.bmm(anchor_labels, labels.transpose(1, 2))
    dist = None
    for ch in range(labels.shape[2]):  # few channels: no (B, A, L, C) tensor
        term = (anchor_labels[..., ch:ch + 1] -
                labels[..., ch].unsqueeze(1)).abs()
        dist = term if dist is None else dist.add_(term)
    return dist


def pair_masks(labels: Tensor, valid: Tensor, anchors: Tensor,
               anchor_ok: Tensor, spec: TaskSpec,
               topk: int = 128) -> Tuple[Tensor, Tensor]:
    """Positive and negative pixel sets of every anchor (paper Sec. 3.2).

    * Discrete and binary tasks: positives are the other valid pixels with
      the anchor's label, negatives the valid pixels with another label.
    * Continuous tasks: positives are the ``k`` valid pixels nearest to the
      anchor in the task's own metric (:func:`label_distance`), negatives
      the ``k`` farthest, with ``k = min(topk, (n - 1) // 2)`` for an image
      with ``n`` valid pixels so the two sets never overlap. A "negative"
      whose label distance is not strictly larger than the farthest
      positive's is dropped (this only happens with ties, e.g. a constant
      depth map, where nothing distinguishes the two sets). Ties at the
      k-th distance are broken by pixel index (the first and last ``k`` of
      a stable ascending sort), so the sets, and the loss, do not depend on
      how ``topk`` orders equal values.

    Ignored / invalid pixels and the anchor itself are never in either set;
    rows of anchors with ``anchor_ok`` False are empty.

    Args:
        labels (Tensor): (B, L, C_l) source labels at feature resolution
            (long for discrete/binary tasks, float for continuous ones).
        valid (Tensor): (B, L) bool, valid source pixels.
        anchors (Tensor): (B, A) anchor indices.
        anchor_ok (Tensor): (B, A) bool, anchors that exist.
        spec (TaskSpec): The source task.
        topk (int): ``k`` of continuous tasks.

    Returns:
        tuple[Tensor, Tensor]: ``pos`` and ``neg``, (B, A, L) bool.
    """
    num_anchors = anchors.shape[1]
    usable = valid.unsqueeze(1) & anchor_ok.unsqueeze(-1)  # (B, A, L)
    usable.scatter_(2, anchors.unsqueeze(-1), False)  # not the anchor
    if not spec.is_continuous:
        lab = labels[..., 0]
        same = lab.gather(1, anchors).unsqueeze(-1) == lab.unsqueeze(1)
        return usable & same, usable & ~same

    labels = promote_half(labels) if labels.is_floating_point() \
        else labels.float()
    dist = label_distance(labels, anchors, spec)
    k_max = max(min(int(topk), valid.shape[1] - 1), 0)
    pos = torch.zeros_like(usable)
    neg = torch.zeros_like(usable)
    if k_max == 0:
        return pos, neg
    # per-image k: at most half of the other valid pixels on each side
    n_other = (valid.sum(dim=1) - 1).clamp(min=0)
    k_img = torch.clamp(n_other // 2, max=k_max)  # (B,)
    slot_ok = torch.arange(k_max, device=valid.device).view(1, 1, -1) < \
        k_img.view(-1, 1, 1)
    unusable = ~usable
    near_key = dist.masked_fill(unusable, float('inf'))
    far_key = dist.masked_fill(unusable, float('-inf'))
    # k-th nearest / farthest label distance of each anchor (slot k_img - 1)
    last = (k_img - 1).clamp(min=0).view(-1, 1, 1).expand(-1, num_anchors, 1)
    near_kth = near_key.topk(k_max, dim=2, largest=False)[0].gather(2, last)
    far_kth = far_key.topk(k_max, dim=2, largest=True)[0].gather(2, last)
    k_row = k_img.view(-1, 1, 1)
    has_k = (k_row > 0) & usable.any(dim=2, keepdim=True)
    pos = _take_with_ties(near_key < near_kth, near_key == near_kth, k_row,
                          lowest_index=True) & has_k & usable
    neg = _take_with_ties(far_key > far_kth, far_key == far_kth, k_row,
                          lowest_index=False) & has_k & usable
    # "negatives" must be strictly farther than the farthest positive
    return pos, neg & (dist > near_kth)


def _take_with_ties(strict: Tensor, tie: Tensor, k: Tensor,
                    lowest_index: bool) -> Tensor:
    """Exactly ``k`` pixels: every ``strict`` one plus ties in index order.

    ``topk`` leaves the choice among equal values to the implementation
    (it differs between devices and versions), which made the CCR loss
    depend on it for quantised labels (e.g. depth in millimetres). The
    order here is total: label distance first, then pixel index (lowest
    first for the nearest set, highest first for the farthest set, i.e.
    the first and last ``k`` of a stable ascending sort).

    Args:
        strict (Tensor): (B, A, L) bool, pixels strictly inside the set.
        tie (Tensor): (B, A, L) bool, pixels at the k-th value.
        k (Tensor): (B, 1, 1) set size per image.
        lowest_index (bool): Take ties from the lowest index on.

    Returns:
        Tensor: (B, A, L) bool.
    """
    free = k - strict.sum(dim=2, keepdim=True)
    if lowest_index:
        rank = tie.cumsum(dim=2, dtype=torch.int32)
    else:
        rank = tie.flip(2).cumsum(dim=2, dtype=torch.int32).flip(2)
    return strict | (tie & (rank <= free))


def feature_distances(feats: Tensor, anchors: Tensor) -> Tensor:
    """Squared L2 distances of unit features, anchors to all pixels.

    Args:
        feats (Tensor): (B, L, C) L2-normalised features.
        anchors (Tensor): (B, A) anchor indices.

    Returns:
        Tensor: (B, A, L) ``||f_a - f_j||^2 = 2 - 2 <f_a, f_j>`` in [0, 4].
    """
    anchor_feats = _gather_pixels(feats, anchors)
    cos = torch.bmm(anchor_feats, feats.transpose(1, 2))
    return (2.0 - 2.0 * cos).clamp_(0.0, _MAX_SQ_DIST)


@torch.no_grad()
def mine_triplets(feats: Tensor,
                  anchors: Tensor,
                  pos: Tensor,
                  neg: Tensor,
                  num_negatives: int = 16,
                  positive_mining: str = 'hardest',
                  negative_mining: str = 'semi_hard',
                  generator: Optional[torch.Generator] = None
                  ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Choose one positive and ``K`` negatives per anchor (Eq. 4 and text).

    * ``positive_mining='hardest'``: the positive farthest from the anchor
      in feature space (Eq. 4); ``'random'``: a uniform positive.
    * ``negative_mining='semi_hard'``: the ``K`` negatives closest to the
      anchor among those strictly farther than the chosen positive
      (FaceNet's semi-hard negatives). **Fallback** when an anchor has fewer
      than ``K`` semi-hard negatives: the free slots take the other
      negatives (closer than the positive) in order of *decreasing*
      distance, i.e. those nearest the semi-hard boundary first — the
      mildest hard negatives, continuing the semi-hard ordering rather than
      jumping to the hardest ones that semi-hard mining avoids. Slots left
      when an anchor has fewer than ``K`` negatives at all are marked
      invalid. ``'random'``: ``K`` uniform distinct negatives.

    Args:
        feats (Tensor): (B, L, C) L2-normalised features (detached here).
        anchors (Tensor): (B, A) anchor indices.
        pos (Tensor): (B, A, L) bool positive sets.
        neg (Tensor): (B, A, L) bool negative sets.
        num_negatives (int): ``K`` (``C_neg`` in the paper).
        positive_mining (str): ``'hardest'`` or ``'random'``.
        negative_mining (str): ``'semi_hard'`` or ``'random'``.
        generator (torch.Generator, optional): RNG for random mining.

    Returns:
        tuple[Tensor, Tensor, Tensor, Tensor]: ``pos_idx`` (B, A),
        ``pos_ok`` (B, A) bool, ``neg_idx`` (B, A, K') and ``neg_ok``
        (B, A, K') bool with ``K' = min(K, L)``.
    """
    dist = feature_distances(promote_half(feats.detach()), anchors)
    pos_ok = pos.any(dim=2)
    if positive_mining == 'hardest':
        score = dist
    elif positive_mining == 'random':
        score = torch.rand(dist.shape, generator=generator,
                           device=dist.device)
    else:
        raise ValueError(f'positive_mining must be one of {POSITIVE_MINING},'
                         f' got {positive_mining!r}')
    pos_idx = score.masked_fill(~pos, -1.0).argmax(dim=2)
    d_pos = dist.gather(2, pos_idx.unsqueeze(-1))  # (B, A, 1)

    if negative_mining == 'semi_hard':
        key = torch.where(dist > d_pos, dist,
                          _FALLBACK_OFFSET + (d_pos - dist))
    elif negative_mining == 'random':
        key = torch.rand(dist.shape, generator=generator, device=dist.device)
    else:
        raise ValueError(f'negative_mining must be one of {NEGATIVE_MINING},'
                         f' got {negative_mining!r}')
    key.masked_fill_(~neg, float('inf'))
    k = min(int(num_negatives), dist.shape[2])
    neg_key, neg_idx = key.topk(k, dim=2, largest=False)
    return pos_idx, pos_ok, neg_idx, torch.isfinite(neg_key)


def triplet_loss_terms(feats: Tensor, anchors: Tensor, anchor_ok: Tensor,
                       pos_idx: Tensor, pos_ok: Tensor, neg_idx: Tensor,
                       neg_ok: Tensor, margin: float = 0.2,
                       distance: str = 'squared') -> Tuple[Tensor, Tensor]:
    """Sum and count of the per-anchor triplet losses of Eq. (1).

    The loss of an anchor ``a`` with positive ``p`` and valid negatives
    ``n_1..n_K'`` is ``mean_j [D(a, p) - D(a, n_j) + m]_+`` with ``D`` the
    squared L2 distance of the normalised features (``distance='squared'``,
    FaceNet's form, in [0, 4]) or the L2 distance itself (``'l2'``, the
    paper's wording, in [0, 2]), recomputed here with autograd for the
    selected pixels only. Mining does not depend on the choice (the square
    root is monotone). Anchors without a positive or without any negative
    do not count.

    Args:
        feats (Tensor): (B, L, C) L2-normalised features (with grad).
        anchors (Tensor): (B, A) anchor indices.
        anchor_ok (Tensor): (B, A) bool.
        pos_idx (Tensor): (B, A) positive indices.
        pos_ok (Tensor): (B, A) bool.
        neg_idx (Tensor): (B, A, K) negative indices.
        neg_ok (Tensor): (B, A, K) bool.
        margin (float): ``m``.
        distance (str): ``'squared'`` or ``'l2'``.

    Returns:
        tuple[Tensor, Tensor]: Scalar sum of per-anchor losses (connected to
        ``feats`` even when no anchor counts) and the number of anchors that
        count (scalar tensor).
    """
    b, num_anchors = anchors.shape
    k = neg_idx.shape[2]
    # one gather (and one backward scatter) for anchors, positives, negatives
    picked = _gather_pixels(
        feats, torch.cat([anchors, pos_idx, neg_idx.reshape(b, -1)], dim=1))
    f_a = picked[:, :num_anchors]  # (B, A, C)
    f_p = picked[:, num_anchors:2 * num_anchors]  # (B, A, C)
    f_n = picked[:, 2 * num_anchors:].reshape(b, num_anchors, k, -1)
    if distance not in TRIPLET_DISTANCES:
        raise ValueError(f'distance must be one of {TRIPLET_DISTANCES}, got '
                         f'{distance!r}')
    d_ap = (f_a - f_p).pow(2).sum(dim=-1)  # (B, A)
    d_an = (f_a.unsqueeze(2) - f_n).pow(2).sum(dim=-1)  # (B, A, K)
    if distance == 'l2':
        # the floor keeps the gradient finite where a pair coincides
        d_ap = d_ap.clamp(min=1e-12).sqrt()
        d_an = d_an.clamp(min=1e-12).sqrt()
    hinge = F.relu(d_ap.unsqueeze(-1) - d_an + margin)
    w = neg_ok.to(hinge.dtype)
    n_neg = w.sum(dim=-1)
    per_anchor = (hinge * w).sum(dim=-1) / n_neg.clamp(min=1.0)
    counted = anchor_ok & pos_ok & (n_neg > 0)
    total = (per_anchor * counted.to(hinge.dtype)).sum()
    # keep the graph connected (zero gradient) when nothing counts
    total = total + 0.0 * f_a.sum()
    return total, counted.sum()
