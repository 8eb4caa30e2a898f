# Copyright (c) mmmtl contributors. All rights reserved.
"""Residual bottleneck block of the task-prediction heads."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class Bottleneck(BaseModule):
    """ResNet bottleneck: 1x1 reduce, 3x3, 1x1 expand, identity/projection
    shortcut, ReLU after the sum.

    Built from mmcv's :class:`~mmcv.cnn.ConvModule`. MMSegmentation's ResNet
    ``Bottleneck`` is not used: its output width is fixed to four times
    the inner width, its activation to ReLU, its projection shortcut is built
    by the caller, and its parameters are named ``conv1`` / ``bn1`` / ...
    (with another initialisation), so checkpoints and fixed-seed models of
    these heads would change.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        expansion (int): ``out_channels // expansion`` is the inner width.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 expansion: int = 4,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        mid = max(out_channels // expansion, 1)
        self.conv1 = ConvModule(in_channels, mid, 1, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.conv2 = ConvModule(mid, mid, 3, padding=1, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.conv3 = ConvModule(mid, out_channels, 1, norm_cfg=norm_cfg,
                                act_cfg=None)
        self.shortcut = nn.Identity() if in_channels == out_channels else \
            ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                       act_cfg=None)
        self.act = nn.ReLU(inplace=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, H, W)."""
        return self.act(self.conv3(self.conv2(self.conv1(x))) +
                        self.shortcut(x))
