# Copyright (c) mmmtl contributors. All rights reserved.
"""DeepLab-style per-task final head."""
from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .aspp_block import ASPPBlock


@MODELS.register_module()
class ASPPPredictionHead(BaseModule):
    """DeepLab-style final head: :class:`ASPPBlock` and a 1x1 output conv.

    Same interface as :class:`PredictionHead` (features, prediction).

    Args:
        in_channels (int): Input channels.
        channels (int): Width of the ASPP block (the returned features).
        out_channels (int): Prediction channels.
        dilations (Sequence[int]): ASPP dilation rates.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 out_channels: int,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.aspp = ASPPBlock(in_channels, channels, dilations, norm_cfg,
                              act_cfg, align_corners)
        self.predictor = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: Tensor,
                predict: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
        """Features (B, channels, H, W) and, if ``predict``, the prediction
        (B, out_channels, H, W) (else ``None``)."""
        feat = self.aspp(x)
        return feat, self.predictor(feat) if predict else None
