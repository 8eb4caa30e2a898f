# Copyright (c) mmmtl contributors. All rights reserved.
"""A straightforward per-anchor reference of the CCR pair loss.

Loops over images and anchors (vectorised over pixels only) and follows the
paper's text step by step. It is the ground truth of the tests of
:mod:`mmmtl.models.losses.triplet_mining` and the baseline of
``tools/analysis_tools/benchmark_ccr.py``; never used in training.
"""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmmtl.structures import TaskSpec, valid_mask


def _neighbour_sets(labels: Tensor, others: Tensor, anchor: int,
                    spec: TaskSpec, topk: int) -> Tuple[Tensor, Tensor]:
    """Positive and negative pixel indices of one anchor.

    Args:
        labels (Tensor): (L, C_l) labels of one image.
        others (Tensor): (L,) bool, valid pixels except the anchor.
        anchor (int): Anchor pixel index.
        spec (TaskSpec): Source task.
        topk (int): ``k`` for continuous tasks.

    Returns:
        tuple[Tensor, Tensor]: 1-D index tensors.
    """
    if not spec.is_continuous:
        same = labels[:, 0] == labels[anchor, 0]
        return (others & same).nonzero()[:, 0], (others & ~same).nonzero()[:,
                                                                           0]
    idx = others.nonzero()[:, 0]
    if spec.unit_norm:  # angular error between unit vectors
        cos = (labels[idx].double() * labels[anchor].double()).sum(1)
        dist = torch.arccos(cos.clamp(-1.0, 1.0))
    else:  # L1 distance
        dist = (labels[idx].double() - labels[anchor].double()).abs().sum(1)
    order = torch.argsort(dist, stable=True)
    k = min(topk, len(idx) // 2)
    if k == 0:
        return idx[:0], idx[:0]
    pos = order[:k]
    neg = order[len(order) - k:]
    neg = neg[dist[neg] > dist[pos[-1]]]
    return idx[pos], idx[neg]


@torch.no_grad()
def reference_mining(proj: Tensor, gt: Tensor, spec: TaskSpec,
                     anchors: Tensor, anchor_ok: Tensor, topk: int = 128,
                     num_negatives: int = 16
                     ) -> List[Tuple[int, int, int, Tensor]]:
    """Triplets of one (target, source) pair, mined anchor by anchor.

    Args:
        proj (Tensor): (B, C, h, w) L2-normalised target projection.
        gt (Tensor): (B, C_s, h, w) source labels at (h, w).
        spec (TaskSpec): Source task.
        anchors (Tensor): (B, A) anchor pixel indices.
        anchor_ok (Tensor): (B, A) bool, anchors to use.
        topk (int): ``k``.
        num_negatives (int): ``C_neg``.

    Returns:
        list[tuple[int, int, int, Tensor]]: ``(image, anchor, positive,
        negatives)`` of every anchor that has a positive and a negative.
    """
    valid_all = valid_mask(gt, spec)[:, 0].flatten(1)
    triplets = []
    for i in range(proj.shape[0]):
        feats = proj[i].flatten(1).t()  # (L, C)
        labels = gt[i].flatten(1).t()  # (L, C_s)
        for slot in range(anchors.shape[1]):
            if not bool(anchor_ok[i, slot]):
                continue
            a = int(anchors[i, slot])
            others = valid_all[i].clone()
            others[a] = False
            pos, neg = _neighbour_sets(labels, others, a, spec, topk)
            if len(pos) == 0 or len(neg) == 0:
                continue
            dist = (feats - feats[a]).pow(2).sum(1)  # squared L2, (L,)
            p = pos[dist[pos].argmax()]
            d_p = dist[p]
            semi = neg[dist[neg] > d_p]
            rest = neg[dist[neg] <= d_p]
            semi = semi[torch.argsort(dist[semi], stable=True)]
            rest = rest[torch.argsort(-dist[rest], stable=True)]
            triplets.append((i, a, int(p),
                             torch.cat([semi, rest])[:num_negatives]))
    return triplets


def reference_pair_loss(proj: Tensor, gt: Tensor, spec: TaskSpec,
                        anchors: Tensor, anchor_ok: Tensor, topk: int = 128,
                        num_negatives: int = 16,
                        margin: float = 0.2) -> Tensor:
    """CCR ``R_ts`` of one (target, source) pair with given anchors.

    Mining as :func:`reference_mining`; then the loss of each anchor's
    chosen pixels with autograd, one anchor at a time.

    Args:
        proj (Tensor): (B, C, h, w) L2-normalised target projection.
        gt (Tensor): (B, C_s, h, w) source labels at (h, w).
        spec (TaskSpec): Source task.
        anchors (Tensor): (B, A) anchor pixel indices.
        anchor_ok (Tensor): (B, A) bool, anchors to use.
        topk (int): ``k``.
        num_negatives (int): ``C_neg``.
        margin (float): ``m``.

    Returns:
        Tensor: Scalar: mean over counted anchors of the mean hinge over the
        anchor's negatives (0 if no anchor counts).
    """
    losses = []
    for i, a, p, chosen in reference_mining(proj, gt, spec, anchors,
                                            anchor_ok, topk, num_negatives):
        feats = proj[i].flatten(1).t()  # (L, C)
        d_ap = (feats[a] - feats[p]).pow(2).sum()
        d_an = (feats[a] - feats[chosen]).pow(2).sum(1)
        losses.append(F.relu(d_ap - d_an + margin).mean())
    if not losses:
        return proj.sum() * 0.0
    return torch.stack(losses).mean()
