# Copyright (c) mmmtl contributors. All rights reserved.
"""InfoNCE logits and DenseCL's dense correspondence."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmmtl.utils.precision import float32_region, upcast


def info_nce_logits(query: Tensor, key: Tensor, negatives: Tensor,
                    own_mask: Optional[Tensor] = None
                    ) -> Tuple[Tensor, Tensor]:
    """Positive and negative similarities of InfoNCE (paper Eq. 2).

    With unit vectors ``q``, ``k+`` and bank ``Z`` the loss is
    ``-log exp(q.k+/T) / (exp(q.k+/T) + sum_z exp(q.z/T))``; mmpretrain's
    :class:`ContrastiveHead` applies the temperature and the cross-entropy
    to the returned pair.

    Args:
        query (Tensor): (N, D) unit queries.
        key (Tensor): (N, D) unit positive keys.
        negatives (Tensor): (D, K) unit negative keys.
        own_mask (Tensor, optional): (N, K) bool; True entries are removed
            from the negatives (their logit becomes ``-inf``).

    Returns:
        tuple[Tensor, Tensor]: (N, 1) positive and (N, K) negative logits
        (cosine similarities, before the temperature), in float32 for half
        inputs, also under autocast: divided by a temperature of 0.2 and
        compared by a softmax, bfloat16's 8 bits would blur them.
    """
    query, key, negatives = upcast(query, key, negatives)
    with float32_region(query.device):
        pos = (query * key).sum(dim=1, keepdim=True)
        neg = query @ negatives.to(query.dtype)
    if own_mask is not None:
        neg = neg.masked_fill(own_mask, float('-inf'))
    return pos, neg


def dense_correspondence(query_feats: Tensor, key_feats: Tensor) -> Tensor:
    """For each query location, the key location of highest similarity.

    DenseCL matches the two views by the cosine similarity of their
    (grid-pooled) features; the positive of query location ``i`` is key
    location ``argmax_j sim(f_q[:, i], f_k[:, j])``.

    Args:
        query_feats (Tensor): (N, C, S) unit-norm (along C) query features
            at S locations.
        key_feats (Tensor): (N, C, S') unit-norm key features.

    Returns:
        Tensor: (N, S) long indices into the S' key locations.
    """
    query_feats, key_feats = upcast(query_feats, key_feats)
    with float32_region(query_feats.device):
        sim = torch.bmm(query_feats.transpose(1, 2),
                        key_feats.to(query_feats.dtype))  # N, S, S'
    return sim.argmax(dim=2)


def gather_locations(feats: Tensor, index: Tensor) -> Tensor:
    """``out[n, :, i] = feats[n, :, index[n, i]]`` for (N, D, S') feats and
    (N, S) index; returns (N, D, S)."""
    return torch.gather(feats, 2,
                        index.unsqueeze(1).expand(-1, feats.shape[1], -1))
