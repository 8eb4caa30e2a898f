# Copyright (c) mmmtl contributors. All rights reserved.
"""Fusion of feature maps of several scales, and the grid size of the
distillation scale they are fused at."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class CrossScaleFusion(BaseModule):
    """Upsample maps to one size, concatenate, fuse with a 3x3 conv block.

    Args:
        in_channels (Sequence[int]): Channels of the maps, in input order.
        channels (int): Output channels.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.align_corners = align_corners
        self.fuse = ConvModule(sum(in_channels), channels, 3, padding=1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, inputs: Sequence[Tensor],
                size: Tuple[int, int]) -> Tensor:
        """Fuse (B, C_i, H_i, W_i) maps at ``size`` -> (B, channels, *size).
        """
        return self.fuse(torch.cat([
            x if tuple(x.shape[2:]) == tuple(size) else resize(
                x, size=size, mode='bilinear',
                align_corners=self.align_corners) for x in inputs
        ], dim=1))


def distill_size(inputs: Sequence[Tensor], in_stride: Union[int, float],
                 distill_stride: Union[int, float]) -> Tuple[int, int]:
    """Grid size at ``distill_stride`` given the finest input's stride.

    Sizes are converted to ``int`` first: under ``torch.jit.trace`` (FLOP
    counting) ``shape`` entries are tensors, which ``round`` rejects.
    """
    h, w = (int(s) for s in inputs[0].shape[2:])
    ratio = float(in_stride) / float(distill_stride)
    return max(int(round(h * ratio)), 1), max(int(round(w * ratio)), 1)
