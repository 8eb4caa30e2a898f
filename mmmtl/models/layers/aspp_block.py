# Copyright (c) mmmtl contributors. All rights reserved.
"""DeepLab-v3 ASPP block built from MMSegmentation's ``ASPPModule``."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ASPPBlock(BaseModule):
    """DeepLab-v3 atrous spatial pyramid pooling block (features only).

    The branches are MMSegmentation's :class:`ASPPModule` and the image
    pooling / bottleneck are mmcv ``ConvModule``s, exactly the layers of
    MMSegmentation's ``ASPPHead``; that head itself is a full decode head
    (classifier, dropout, loss) rather than a block, so it is not used.

    Image pooling (global average pool + 1x1 conv, broadcast back), parallel
    ``3x3`` convs with the given dilations (a ``1x1`` conv for dilation 1,
    MMSegmentation's :class:`ASPPModule`), concatenation and a ``3x3``
    conv-norm-act bottleneck, as MMSegmentation's ``ASPPHead``. The CTAL
    appendix uses "a DeepLab head" for the final predictions of its
    transformer models without giving the rates; the DeepLab-v3 rates
    (1, 6, 12, 18) are the default.

    Args:
        in_channels (int): Input channels.
        channels (int): Width of every branch and of the output.
        dilations (Sequence[int]): Dilation rate per branch.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError(f'ASPPBlock: dilations must be positive '
                             f'integers, got {dilations}')
        self.align_corners = align_corners
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
        self.aspp = ASPPModule(tuple(dilations), in_channels, channels,
                               conv_cfg=None, norm_cfg=norm_cfg,
                               act_cfg=act_cfg)
        self.bottleneck = ConvModule((len(dilations) + 1) * channels,
                                     channels, 3, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, channels, H, W)."""
        pooled = resize(self.image_pool(x), size=x.shape[2:],
                        mode='bilinear', align_corners=self.align_corners)
        return self.bottleneck(torch.cat([pooled] + self.aspp(x), dim=1))
