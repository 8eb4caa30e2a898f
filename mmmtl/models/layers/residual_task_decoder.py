# Copyright (c) mmmtl contributors. All rights reserved.
"""Residual task decoder: the CTAL appendix's CNN output head as a
feature decoder of the hard-parameter-sharing head."""
from typing import Optional

from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from mmseg.registry import MODELS

from .bottleneck import Bottleneck


@MODELS.register_module()
class ResidualTaskDecoder(Sequential):
    """A 3x3 conv-norm-act (the cross-scale fusion block of the distillation
    heads) and two residual :class:`Bottleneck` blocks, so the STL/MTL
    baselines share the output heads of the distillation models as the CTAL
    paper requires. Features only, (B, in_channels, H, W) ->
    (B, channels, H, W).

    Args:
        in_channels (int): Input channels.
        channels (int): Width of the blocks (the returned features).
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(
            ConvModule(in_channels, channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            init_cfg=init_cfg)
