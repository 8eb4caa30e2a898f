# Copyright (c) mmmtl contributors. All rights reserved.
"""PAP-Net's cross-task affinity propagation (Zhang et al., CVPR 2019)."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from .affinity import (affinity_diffusion_chunked, affinity_diffusion_dense,
                       check_chunk_size, normalize_columns)


class TaskAffinityPropagation(BaseModule):
    """Affinity matrices combined by a learnt weighted sum, diffused by
    matrix multiplication.

    For every task ``k`` the affinity ``A_k`` (HW x HW) is the Gram matrix
    of the column-L2-normalised flattened features. Target task ``t``
    combines them with one learnt scalar per matrix,
    ``A'_t = sum_k alpha[t, k] A_k`` (``alpha`` starts at ``1 / N``), and
    diffuses it into its features, ``F_d = F_t A'_t^T`` (``A'_t`` is
    symmetric), blended as ``gamma * F_d + (1 - gamma) * F_t``.

    The weighted sum is exactly CTAL's grouped convolution with a 1x1 kernel
    whose weights are shared by all positions and no bias, so the same dense
    and memory-efficient (factorised, anchor-chunked) ops of
    :mod:`mmmtl.models.layers.affinity` compute it; unlike CTAL it has no
    per-position parameters and works at any resolution.

    Choices where the papers are silent: diffusion acts on the features
    themselves (no projection); the diffused features are scaled by
    ``1 / HW`` by default (``scale_by_hw``) so that the propagation is an
    average rather than a sum over positions -- PAP-Net normalises its
    affinities before propagating, and without it the diffused term is
    ``HW`` times larger than the features it is blended with. One diffusion
    step (PAP-Net iterates; the CTAL authors' re-implementation is not
    public).

    Args:
        tasks (Sequence[str]): Tasks.
        gamma (float): Blending factor (0.05).
        scale_by_hw (bool): Scale the diffused features by ``1 / HW``.
        memory_efficient (bool): Factorised, anchor-chunked path (no
            ``HW x HW`` matrix).
        chunk_size (int | str): Anchor rows per block, or ``'auto'``.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 gamma: float = 0.05,
                 scale_by_hw: bool = True,
                 memory_efficient: bool = False,
                 chunk_size: Union[int, str] = 'auto',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.tasks = list(tasks)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f'gamma must be in [0, 1], got {gamma}')
        n = len(self.tasks)
        self.alpha = nn.Parameter(torch.full((n, n), 1.0 / n))
        self.gamma = gamma
        self.scale_by_hw = scale_by_hw
        self.memory_efficient = memory_efficient
        self.chunk_size = check_chunk_size(chunk_size)

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """task -> (B, C, H, W) -> task -> (B, C, H, W) refined."""
        x = torch.stack([feats[t] for t in self.tasks], dim=1)
        size = tuple(x.shape[3:])
        positions = size[0] * size[1]
        flat = x.flatten(3)  # (B, N, C, P)
        n = len(self.tasks)
        weight = self.alpha.view(n, 1, n, 1, 1).expand(n, positions, n, 1, 1)
        scale = 1.0 / positions if self.scale_by_hw else 1.0
        if self.memory_efficient:
            diffused = affinity_diffusion_chunked(
                normalize_columns(flat), flat, weight, None, size, scale,
                self.chunk_size)
        else:
            diffused = affinity_diffusion_dense(normalize_columns(flat), flat,
                                                weight, None, size, scale)
        diffused = diffused.unflatten(3, size)
        return {
            t: self.gamma * diffused[:, i] + (1.0 - self.gamma) * feats[t]
            for i, t in enumerate(self.tasks)
        }
