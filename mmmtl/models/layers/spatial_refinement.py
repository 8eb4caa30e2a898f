# Copyright (c) mmmtl contributors. All rights reserved.
"""MT-CP's Spatial Refinement Module (SRM) for the trace-back."""
from typing import Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor

from .cbam import CBAM


class SpatialRefinementModule(BaseModule):
    """One trace-back step of MT-CP (Fontana et al., Sec. 3.4, Fig. 4).

    The running cross-task representation ``x`` and the task decoder's
    stage features ``skip`` each pass through a CBAM; ``x`` is resized to
    the stage's resolution and concatenated with it; two parallel,
    independent 1x1 conv + BN + ReLU modules then give

    * ``pred_feat`` (``out_channels``): features of this stage's
      intermediate prediction;
    * ``next_feat`` (``next_channels``): the representation handed to the
      next (finer) SRM, as in the released code (which passes its second
      output on). The last SRM of a chain needs none (``next_channels``
      ``None``), so no parameter is left unused under DDP.

    Args:
        in_channels (int): Channels of ``x``.
        skip_channels (int): Channels of ``skip``.
        out_channels (int): Channels of ``pred_feat``.
        next_channels (int, optional): Channels of ``next_feat``.
        cbam_cfg (dict, optional): Extra :class:`CBAM` arguments.
        norm_cfg (dict): Norm config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting of the resize.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 skip_channels: int,
                 out_channels: int,
                 next_channels: Optional[int] = None,
                 cbam_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        cbam_cfg = dict(cbam_cfg or {})
        self.align_corners = align_corners
        self.in_cbam = CBAM(in_channels, **cbam_cfg)
        self.skip_cbam = CBAM(skip_channels, **cbam_cfg)
        cat = in_channels + skip_channels
        self.pred_branch = ConvModule(cat, out_channels, 1,
                                      norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.next_branch = ConvModule(
            cat, next_channels, 1, norm_cfg=norm_cfg,
            act_cfg=act_cfg) if next_channels is not None else None

    def forward(self, x: Tensor, skip: Tensor
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """Refine ``x`` with one decoder stage.

        Args:
            x (Tensor): (B, C_in, h, w) running representation.
            skip (Tensor): (B, C_skip, H, W) stage features.

        Returns:
            tuple[Tensor, Tensor | None]: (B, out_channels, H, W) prediction
            features and (B, next_channels, H, W) next representation
            (``None`` without ``next_channels``).
        """
        x = self.in_cbam(x)
        if x.shape[2:] != skip.shape[2:]:
            x = resize(x, size=skip.shape[2:], mode='bilinear',
                       align_corners=self.align_corners)
        cat = torch.cat([x, self.skip_cbam(skip)], dim=1)
        nxt = self.next_branch(cat) if self.next_branch is not None else None
        return self.pred_branch(cat), nxt
