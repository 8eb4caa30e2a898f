# Copyright (c) mmmtl contributors. All rights reserved.
"""The CTAL cross-task distillation module (Sinodinos & Armanfard, WACV 2025).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor

from .affinity import (affinity_diffusion_chunked, affinity_diffusion_dense,
                       check_chunk_size, normalize_columns)


class CrossTaskAffinity(BaseModule):
    """Cross-Task Affinity Learning: intra-task affinity, inter-task grouped
    convolution over the interleaved affinity maps, task-specific diffusion.

    For every task ``k`` the initial features ``F_i`` (B, C, H, W) give a
    cosine affinity ``A_k`` (HW x HW). The N affinities, reshaped to
    (HW, H, W) and interleaved along channels, are fused by a grouped
    convolution with HW groups of N channels and an ``f x f`` kernel (one
    kernel per grid position: ``HW * N * f * f`` weights and ``HW`` biases).
    Each task ``t`` diffuses its fused affinity ``G_t`` into a 3x3
    convolutional projection ``F_p`` of its features, ``F_d = F_p G_t^T``,
    and blends ``F_r = gamma * F_d + (1 - gamma) * F_i`` (paper Eqs. 1-2).
    See :mod:`mmmtl.models.layers.affinity` for the exact index conventions
    and the chunked path.

    Resolution: the grouped convolution has one kernel per position of the
    distillation grid, so its parameters fix the grid (``grid_size``). At any
    other feature size the features are resampled (bilinear) to the grid for
    the projection, affinity and diffusion, the diffused features are
    resampled back, and the blend uses the original features -- at the
    trained size nothing is resampled. This lets a model trained at one crop
    size predict whole images of another size or run sliding-window
    inference (the authors' code only runs at the training size).

    Choices where the paper is silent: the projection is a plain 3x3
    convolution with bias (no norm/activation); the fused affinity is not
    normalised (faithful to the paper), ``scale_by_hw=True`` multiplies the
    diffused features by ``1 / HW``.

    Args:
        tasks (Sequence[str]): The N tasks, in the interleaving order.
        channels (int): Channels ``C`` of every task's initial features.
        grid_size (tuple[int, int]): Distillation grid (H, W) the grouped
            convolutions are built for.
        kernel_size (int): ``f``, odd (3 in the paper).
        gamma (float): Blending factor (0.05 in the paper).
        shared_fusion (bool): One grouped convolution shared by all tasks
            (the authors' released code) instead of one per task (the
            paper's text and Fig. 2).
        scale_by_hw (bool): Scale the diffused features by ``1 / HW``.
        memory_efficient (bool): Use the factorised, anchor-chunked path
            (no ``HW x HW`` matrix, see :mod:`mmmtl.models.layers.affinity`)
            instead of the dense reference.
        chunk_size (int | str): Anchor rows per block of the memory-efficient
            path, or ``'auto'`` (as many as fit a 512 MiB budget).
        align_corners (bool): Interpolation setting for grid resampling.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 channels: int,
                 grid_size: Tuple[int, int],
                 kernel_size: int = 3,
                 gamma: float = 0.05,
                 shared_fusion: bool = False,
                 scale_by_hw: bool = False,
                 memory_efficient: bool = False,
                 chunk_size: Union[int, str] = 'auto',
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.tasks = list(tasks)
        if len(self.tasks) < 1:
            raise ValueError('CrossTaskAffinity needs at least one task')
        grid_size = tuple(int(s) for s in grid_size)
        if len(grid_size) != 2 or min(grid_size) < 1:
            raise ValueError(f'grid_size must be two positive ints (H, W), '
                             f'got {grid_size}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be a positive odd int, got '
                             f'{kernel_size}')
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f'gamma must be in [0, 1], got {gamma}')
        self.channels = channels
        self.grid_size = grid_size
        self.kernel_size = kernel_size
        self.gamma = gamma
        self.shared_fusion = shared_fusion
        self.scale_by_hw = scale_by_hw
        self.memory_efficient = memory_efficient
        self.chunk_size = check_chunk_size(chunk_size)
        self.align_corners = align_corners
        positions = grid_size[0] * grid_size[1]
        num_tasks = len(self.tasks)

        def grouped_conv() -> nn.Conv2d:
            return nn.Conv2d(num_tasks * positions, positions, kernel_size,
                             padding=kernel_size // 2, groups=positions)

        fusion_names = ['shared'] if shared_fusion else self.tasks
        self.fusion = nn.ModuleDict({n: grouped_conv() for n in fusion_names})
        self.projections = nn.ModuleDict({
            t: nn.Conv2d(channels, channels, 3, padding=1)
            for t in self.tasks
        })

    @property
    def num_positions(self) -> int:
        """Positions HW of the distillation grid."""
        return self.grid_size[0] * self.grid_size[1]

    def fusion_parameters(self) -> Tuple[Tensor, Tensor]:
        """Stacked grouped-conv kernels (G, HW, N, f, f) and biases (G, HW),
        ``G = 1`` with ``shared_fusion`` else N (task order)."""
        convs = list(self.fusion.values())
        return (torch.stack([c.weight for c in convs]),
                torch.stack([c.bias for c in convs]))

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Refine every task's initial features.

        Args:
            feats (dict[str, Tensor]): task -> (B, C, h, w) initial features
                (same size for all tasks).

        Returns:
            dict[str, Tensor]: task -> (B, C, h, w) refined features ``F_r``.
        """
        missing = [t for t in self.tasks if t not in feats]
        if missing:
            raise KeyError(f'CrossTaskAffinity got no features for '
                           f'{missing}')
        size = tuple(feats[self.tasks[0]].shape[2:])
        resample = size != self.grid_size
        grid_feats = [
            resize(feats[t], size=self.grid_size, mode='bilinear',
                   align_corners=self.align_corners) if resample else feats[t]
            for t in self.tasks
        ]
        normed = normalize_columns(
            torch.stack(grid_feats, dim=1).flatten(3))  # (B, N, C, P)
        projs = torch.stack([
            self.projections[t](f) for t, f in zip(self.tasks, grid_feats)
        ], dim=1).flatten(3)  # (B, N, C, P)
        weight, bias = self.fusion_parameters()
        scale = 1.0 / self.num_positions if self.scale_by_hw else 1.0
        if self.memory_efficient:
            diffused = affinity_diffusion_chunked(
                normed, projs, weight, bias, self.grid_size, scale,
                self.chunk_size)
        else:
            diffused = affinity_diffusion_dense(normed, projs, weight, bias,
                                                self.grid_size, scale)
        diffused = diffused.unflatten(3, self.grid_size)
        out = {}
        for i, task in enumerate(self.tasks):
            d = diffused[:, i]
            if resample:
                d = resize(d, size=size, mode='bilinear',
                           align_corners=self.align_corners)
            out[task] = self.gamma * d + (1.0 - self.gamma) * feats[task]
        return out
