# Copyright (c) mmmtl contributors. All rights reserved.
"""Squeeze-and-excitation channel gate of MTI-Net's feature propagation."""
from typing import Optional

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class SqueezeExcitation(BaseModule):
    """Channel attention: global pool, bottleneck MLP, sigmoid gate.

    ``x * sigmoid(W2 relu(W1 avgpool(x) + b1) + b2)`` with a hidden width of
    ``max(channels // ratio, 1)``. MMSegmentation's ``SELayer`` computes the
    same gate with ``act_cfg=(ReLU, Sigmoid)`` but rounds the hidden width
    up to a multiple of 8 (a different model for the widths used here) and
    initialises its convs differently, so it is not used.

    Args:
        channels (int): Channels of the gated map.
        ratio (int): Reduction of the hidden width.
    """

    def __init__(self, channels: int, ratio: int = 4,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        hidden = max(channels // ratio, 1)
        self.fc = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=False), nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W) gated."""
        return x * self.fc(x)
