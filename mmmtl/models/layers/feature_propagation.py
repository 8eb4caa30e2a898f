# Copyright (c) mmmtl contributors. All rights reserved.
"""MTI-Net's feature propagation module."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .squeeze_excitation import SqueezeExcitation

TaskFeats = Dict[str, Tensor]


@MODELS.register_module()
class FeaturePropagation(BaseModule):
    """MTI-Net's feature propagation module (FPM), in our formulation.

    The task features of one scale are concatenated; a conv block predicts,
    per channel and pixel, a softmax over tasks that mixes the task features
    into one shared map; a 1x1 conv block refines it; each task then takes
    its squeeze-excitation view of the shared map plus its own features.
    The result is passed (upsampled) to the next finer scale's initial
    predictions.

    Args:
        tasks (Sequence[str]): Tasks.
        channels (int): Channels of every task's features.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.tasks = list(tasks)
        total = channels * len(self.tasks)
        self.mixing = nn.Sequential(
            ConvModule(total, total, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg), nn.Conv2d(total, total, 1))
        self.reduce = ConvModule(channels, channels, 1, norm_cfg=norm_cfg,
                                 act_cfg=act_cfg)
        self.se = nn.ModuleDict(
            {t: SqueezeExcitation(channels) for t in self.tasks})

    def forward(self, feats: TaskFeats) -> TaskFeats:
        """task -> (B, C, H, W) features -> task -> (B, C, H, W)."""
        stacked = torch.stack([feats[t] for t in self.tasks], dim=2)
        b, c, n, h, w = stacked.shape
        logits = self.mixing(stacked.flatten(1, 2)).view(b, c, n, h, w)
        shared = self.reduce((logits.softmax(dim=2) * stacked).sum(dim=2))
        return {t: self.se[t](shared) + feats[t] for t in self.tasks}
