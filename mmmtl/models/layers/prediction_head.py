# Copyright (c) mmmtl contributors. All rights reserved.
"""Residual per-task prediction head (initial and final CNN heads)."""
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .bottleneck import Bottleneck


@MODELS.register_module()
class PredictionHead(BaseModule):
    """Two residual bottleneck blocks and a 1x1 output convolution.

    The features after the second block are what the distillation modules
    (for initial heads) and auxiliary losses (for final heads) consume.

    Args:
        in_channels (int): Input channels.
        channels (int): Width of the blocks (the returned features).
        out_channels (int): Prediction channels.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 out_channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.blocks = nn.Sequential(
            Bottleneck(in_channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
        self.predictor = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: Tensor,
                predict: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
        """Features (B, channels, H, W) and, if ``predict``, the prediction
        (B, out_channels, H, W) (else ``None``)."""
        feat = self.blocks(x)
        return feat, self.predictor(feat) if predict else None
