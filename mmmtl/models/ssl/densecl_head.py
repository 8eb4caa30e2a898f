# Copyright (c) mmmtl contributors. All rights reserved.
"""DenseCL (Wang et al., CVPR 2021) as a CompL auxiliary task."""
from typing import Dict, List, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.necks import DenseCLNeck
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import MultiTaskDataSample
from mmmtl.utils.precision import l2_normalize
from .base_ssl_head import SSLEncoder, ssl_indices
from .contrastive import dense_correspondence, gather_locations, \
    info_nce_logits
from .moco_head import MoCoSSLHead, contrast_accuracy
from .negative_bank import build_negative_bank


def grid_features(feats: Tensor, num_grid: Optional[int]) -> Tensor:
    """(N, C, h, w) -> (N, C, S) unit-norm features on a ``num_grid`` x
    ``num_grid`` grid (adaptive average pooling; S = h * w if None)."""
    if num_grid is not None:
        feats = F.adaptive_avg_pool2d(feats, num_grid)
    return l2_normalize(feats.flatten(2), dim=1)


@MODELS.register_module()
class DenseCLSSLHead(MoCoSSLHead):
    """MoCo v2's global contrast plus DenseCL's dense (local) contrast.

    Projector: mmpretrain's ``DenseCLNeck`` — the global branch (GAP +
    fc-relu-fc, as MoCo) and the dense branch (adaptive average pooling of
    the features to a ``num_grid`` x ``num_grid`` grid, then two 1x1 convs
    ``in -> hid -> out``), as the paper describes. For each query grid cell
    the positive is the key grid cell whose *pooled input features* are
    most cosine-similar (the correspondence between views; the authors'
    released code matches the grid-pooled decoder features, whereas
    mmpretrain's ``DenseCL`` matches full-resolution backbone features and
    therefore only works with ``num_grid=None``). Dense negatives come from a
    second bank holding the spatially averaged dense embedding of each key.

    The two InfoNCE losses are mixed as in DenseCL:
    ``(1 - dense_weight) * L_global + dense_weight * L_dense``, reported as
    ``loss_single`` and ``loss_dense`` (DenseCL uses 0.5; the CompL authors'
    configs 0.7, grid 8 on NYUD and 32 on VOC, temperature 0.4 and a memory
    bank the size of the dataset). Both banks use ``negative_bank`` (the
    memory bank masks the query image's own slot in both).

    Args:
        num_grid (int, optional): Grid size S of the dense branch; None
            keeps the feature resolution.
        dense_weight (float): Mix weight of the dense loss in [0, 1].
        **kwargs: See :class:`MoCoSSLHead` (``name`` defaults to
            ``'densecl'``).
    """

    def __init__(self, num_grid: Optional[int] = 8, dense_weight: float = 0.5,
                 name: str = 'densecl', **kwargs):
        if num_grid is not None and num_grid <= 0:
            raise ValueError(f'num_grid must be a positive int or None, got '
                             f'{num_grid}')
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f'dense_weight must be in [0, 1], got '
                             f'{dense_weight}')
        self.num_grid = num_grid
        super().__init__(name=name, **kwargs)
        self.dense_weight = float(dense_weight)
        self.dense_bank = build_negative_bank(self.negative_bank,
                                              self.out_channels,
                                              self.bank.size)

    def build_projector(self) -> nn.Module:
        """mmpretrain's ``DenseCLNeck`` (global MLP + dense 1x1 convs)."""
        return DenseCLNeck(self.in_channels, self.hid_channels,
                           self.out_channels, num_grid=self.num_grid)

    def loss(self, views: Tensor, data_samples: List[MultiTaskDataSample],
             encoder: SSLEncoder) -> Dict[str, Tensor]:
        """Global and dense InfoNCE of view 0 (query) against view 1 (key).

        Args:
            views (Tensor): (B, V >= 2, 3, h, w) normalised views.
            data_samples (list[MultiTaskDataSample]): Samples.
            encoder (SSLEncoder): Shared feature path.

        Returns:
            dict[str, Tensor]: ``loss_single``, ``loss_dense`` (already
            multiplied by ``1 - dense_weight`` / ``dense_weight``),
            ``acc_single`` and ``acc_dense``.
        """
        im_q, im_k = self._two_views(views)
        feats_q = self.features(encoder, im_q)
        glob_q, grid_q, _ = self.project(feats_q)
        query = l2_normalize(glob_q, dim=1)  # B, D
        query_grid = l2_normalize(grid_q, dim=1)  # B, D, S
        ident_q = grid_features(feats_q, self.num_grid)  # B, C, S

        self._momentum_step(encoder)
        feats_k, (glob_k, grid_k, pooled_k) = self.momentum_outputs(im_k)
        key = l2_normalize(glob_k, dim=1)
        key_grid = l2_normalize(grid_k, dim=1)
        key_pooled = l2_normalize(pooled_k, dim=1)
        ident_k = grid_features(feats_k, self.num_grid)

        ids = ssl_indices(data_samples, views.device) \
            if self.negative_bank == 'memory_bank' else None
        mask = self.bank.own_slot_mask(ids)
        pos, neg = info_nce_logits(query, key, self.bank.negatives(), mask)
        loss_single = self.contrastive.loss(pos, neg)

        match = dense_correspondence(ident_q, ident_k)  # B, S
        matched_key = gather_locations(key_grid, match)  # B, D, S
        num_loc = query_grid.shape[2]
        flat_q = query_grid.transpose(1, 2).flatten(0, 1)  # B*S, D
        flat_k = matched_key.transpose(1, 2).flatten(0, 1)
        dense_mask = None if mask is None else \
            mask.repeat_interleave(num_loc, dim=0)
        pos_d, neg_d = info_nce_logits(flat_q, flat_k,
                                       self.dense_bank.negatives(),
                                       dense_mask)
        loss_dense = self.contrastive.loss(pos_d, neg_d)

        self.bank.update(key, ids)
        self.dense_bank.update(key_pooled, ids)
        return dict(loss_single=(1 - self.dense_weight) * loss_single,
                    loss_dense=self.dense_weight * loss_dense,
                    acc_single=contrast_accuracy(pos, neg),
                    acc_dense=contrast_accuracy(pos_d, neg_d))
