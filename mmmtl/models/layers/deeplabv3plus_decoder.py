# Copyright (c) mmmtl contributors. All rights reserved.
"""The DeepLab-v3+ decoder (features only), for per-task decoders."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor

from .aspp_block import ASPPBlock


class DeepLabV3PlusDecoder(BaseModule):
    """DeepLab-v3+ (Chen et al., 2018) decoder without the classifier.

    ASPP on the high-level features, upsampled to the low-level features,
    concatenated with a ``1x1`` reduction of those to ``c1_channels``
    (48 in the paper), then two ``3x3`` conv-norm-act blocks of
    ``channels`` (256). The convs are plain, not depthwise separable (the
    separable variant is DeepLab-v3+'s Xception trick;
    MMSegmentation's ``DepthwiseSeparableASPPHead`` uses it); the ASPP is
    :class:`ASPPBlock` (image pooling + rates, as MMSegmentation).

    Args:
        low_channels (int): Channels of the low-level (stride-4) input.
        high_channels (int): Channels of the high-level input.
        channels (int): ASPP and decoder width (the output channels).
        c1_channels (int): Width of the low-level reduction.
        dilations (Sequence[int]): ASPP rates (1, 6, 12, 18 for output
            stride 16; 1, 12, 24, 36 for output stride 8).
        norm_cfg (dict): Norm layer config (GroupNorm needs ``channels``
            and ``c1_channels`` divisible by ``num_groups``).
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 low_channels: int,
                 high_channels: int,
                 channels: int = 256,
                 c1_channels: int = 48,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.align_corners = align_corners
        self.aspp = ASPPBlock(high_channels, channels, dilations, norm_cfg,
                              act_cfg, align_corners)
        self.c1_reduce = ConvModule(low_channels, c1_channels, 1,
                                    norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.fuse = nn.Sequential(
            ConvModule(channels + c1_channels, channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(channels, channels, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        """Decode.

        Args:
            low (Tensor): (B, low_channels, H, W) low-level features.
            high (Tensor): (B, high_channels, h, w) high-level features.

        Returns:
            Tensor: (B, channels, H, W).
        """
        context = resize(self.aspp(high), size=low.shape[2:],
                         mode='bilinear', align_corners=self.align_corners)
        return self.fuse(torch.cat([context, self.c1_reduce(low)], dim=1))
