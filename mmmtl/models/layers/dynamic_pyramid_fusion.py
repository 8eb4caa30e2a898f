# Copyright (c) mmmtl contributors. All rights reserved.
"""Dynamic feature-pyramid fusion (per-pixel learned scale weights)."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor


class DynamicPyramidFusion(BaseModule):
    """Fuse a feature pyramid into its finest level with adaptive weights.

    MT-CP (Sec. 3.2) merges the task decoder's stages with a "dynamic
    feature pyramid fusion" (Liang et al., 2021) built from interpolations
    and convolutions that learns adaptive weights to select features. The
    paper gives no equations and the released code uses a plain FPN top-down
    sum. We implement the adaptive weighting literally and input-dependently:

    1. a lateral 1x1 conv-norm per level maps it to ``channels``;
    2. each lateral is upsampled (bilinear) to the finest level;
    3. a 1x1 conv over their concatenation predicts one logit per level and
       pixel; a softmax over levels gives the weights ``a_k(p)``;
    4. ``sum_k a_k(p) * lateral_k(p)`` goes through a 3x3 conv-norm-act.

    Args:
        in_channels (Sequence[int]): Channels of each level, finest first.
        channels (int): Output channels.
        norm_cfg (dict): Norm config.
        act_cfg (dict): Activation config of the output conv.
        align_corners (bool): Interpolation setting.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.align_corners = align_corners
        self.laterals = nn.ModuleList([
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in self.in_channels
        ])
        self.scale_logits = nn.Conv2d(
            channels * len(self.in_channels), len(self.in_channels), 1)
        self.out_conv = ConvModule(channels, channels, 3, padding=1,
                                   norm_cfg=norm_cfg, act_cfg=act_cfg)

    def scale_weights(self, laterals: List[Tensor]) -> Tensor:
        """(B, K, H, W) per-pixel softmax weights of the K levels."""
        return torch.softmax(self.scale_logits(torch.cat(laterals, dim=1)),
                             dim=1)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Fuse the pyramid.

        Args:
            feats (Sequence[Tensor]): (B, C_k, H_k, W_k) levels, finest
                first.

        Returns:
            Tensor: (B, channels, H_0, W_0).
        """
        if len(feats) != len(self.laterals):
            raise ValueError(f'DynamicPyramidFusion was built for '
                             f'{len(self.laterals)} levels, got {len(feats)}')
        size = feats[0].shape[2:]
        laterals = []
        for lateral, x in zip(self.laterals, feats):
            x = lateral(x)
            if x.shape[2:] != size:
                x = resize(x, size=size, mode='bilinear',
                           align_corners=self.align_corners)
            laterals.append(x)
        weights = self.scale_weights(laterals)
        fused = sum(weights[:, k:k + 1] * x for k, x in enumerate(laterals))
        return self.out_conv(fused)
