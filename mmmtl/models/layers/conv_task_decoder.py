# Copyright (c) mmmtl contributors. All rights reserved.
"""Plain convolutional task decoder of the hard-parameter-sharing head."""
from typing import Optional

from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from mmseg.registry import MODELS


@MODELS.register_module()
class ConvTaskDecoder(Sequential):
    """A 1x1 conv-norm-act reducing ``in_channels`` to ``channels``, then
    ``num_convs - 1`` ``kernel_size`` conv-norm-act blocks (the HRNet heads
    of the standard multi-task toolbox). Features only, (B, in_channels, H,
    W) -> (B, channels, H, W).

    Args:
        in_channels (int): Input channels.
        channels (int): Width of every block (the returned features).
        num_convs (int): Conv blocks (>= 1).
        kernel_size (int): Kernel of the blocks after the first.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        if num_convs < 1:
            raise ValueError(f'ConvTaskDecoder: num_convs must be >= 1, got '
                             f'{num_convs}')
        layers = [ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                             act_cfg=act_cfg)]
        layers += [
            ConvModule(channels, channels, kernel_size,
                       padding=kernel_size // 2, norm_cfg=norm_cfg,
                       act_cfg=act_cfg) for _ in range(num_convs - 1)
        ]
        super().__init__(*layers, init_cfg=init_cfg)
