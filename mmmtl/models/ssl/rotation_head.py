# Copyright (c) mmmtl contributors. All rights reserved.
"""Rotation prediction (Gidaris et al., ICLR 2018) as a CompL auxiliary."""
from typing import Dict, List, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import MultiTaskDataSample
from .base_ssl_head import BaseSSLHead, SSLEncoder, stack_ssl_labels


@MODELS.register_module()
class RotationSSLHead(BaseSSLHead):
    """Predict by how many quarter turns each auxiliary view was rotated.

    The paper's Rot head: global average pooling, one fully connected layer
    with 4 outputs and a 4-way cross-entropy. The rotation itself happens in
    the auxiliary pipeline
    (:class:`~mmmtl.datasets.transforms.ssl_views.RandomRotate90`, which
    needs square views so the rotated images stack and their shape does not
    reveal the label); its label arrives as ``ssl_labels`` (0, 1, 2, 3 =
    0, 90, 180, 270 degrees counter-clockwise). Every view of every sample is
    classified.

    mmpretrain has no rotation head for this layout (its ``LinearClsHead``
    reads ``gt_label`` from its own ``DataSample`` type), so the two layers
    are written here.

    Args:
        num_rotations (int): Number of rotation classes (4).
        **kwargs: See :class:`BaseSSLHead` (``name``, ``loss_weight`` —
            0.05 in the paper —, ``in_channels``, ``in_index``,
            ``head_task``).
    """

    def __init__(self, num_rotations: int = 4, name: str = 'rot',
                 loss_weight: float = 0.05,
                 init_cfg: Optional[dict] = None, **kwargs):
        super().__init__(name=name, loss_weight=loss_weight,
                         init_cfg=init_cfg, **kwargs)
        if num_rotations < 2:
            raise ValueError(f'num_rotations must be >= 2, got '
                             f'{num_rotations}')
        self.num_rotations = num_rotations
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.in_channels, num_rotations)

    def forward(self, feats: Tensor) -> Tensor:
        """(N, C, h, w) features -> (N, num_rotations) logits."""
        return self.fc(self.pool(feats).flatten(1))

    def loss(self, views: Tensor, data_samples: List[MultiTaskDataSample],
             encoder: SSLEncoder) -> Dict[str, Tensor]:
        """Cross-entropy of the rotation classes.

        Args:
            views (Tensor): (B, V, 3, S, S) rotated views.
            data_samples (list[MultiTaskDataSample]): With ``ssl_labels``
                (V,) each.
            encoder (SSLEncoder): Shared feature path.

        Returns:
            dict[str, Tensor]: ``loss_rot`` and ``acc_rot`` (percent).
        """
        labels = stack_ssl_labels(data_samples).to(views.device)  # B, V
        if labels.shape != views.shape[:2]:
            raise ValueError(f'ssl_labels have shape {tuple(labels.shape)}, '
                             f'expected one label per view '
                             f'{tuple(views.shape[:2])}')
        if int(labels.min()) < 0 or int(labels.max()) >= self.num_rotations:
            raise ValueError(f'rotation labels must be in [0, '
                             f'{self.num_rotations}), got '
                             f'{labels.unique().tolist()}')
        logits = self(self.features(encoder, views.flatten(0, 1)))
        labels = labels.flatten()
        acc = (logits.argmax(dim=1) == labels).float().mean() * 100
        return dict(loss_rot=F.cross_entropy(logits, labels),
                    acc_rot=acc.detach())
