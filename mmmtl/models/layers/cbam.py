# Copyright (c) mmmtl contributors. All rights reserved.
"""Convolutional Block Attention Module (Woo et al., ECCV 2018)."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


class ChannelAttention(nn.Module):
    """CBAM's channel gate: a shared MLP on global average- and max-pooled
    descriptors, summed, then a sigmoid.

    Args:
        channels (int): Input channels.
        reduction (int): Hidden width is ``max(channels // reduction, 1)``.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, 1, 1) gate in (0, 1)."""
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        mx = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return torch.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """CBAM's spatial gate: a ``kernel_size`` conv on the channel-wise mean
    and max maps, an optional one-channel norm, then a sigmoid.

    Args:
        kernel_size (int): Odd kernel size of the gate's conv.
        norm_cfg (dict, optional): Norm after the conv (``None``: none).
    """

    def __init__(self, kernel_size: int = 7,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2,
                              bias=False)
        self.norm = build_norm_layer(norm_cfg, 1)[1] \
            if norm_cfg is not None else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, 1, H, W) gate in (0, 1)."""
        desc = torch.cat([x.mean(dim=1, keepdim=True),
                          x.amax(dim=1, keepdim=True)], dim=1)
        out = self.conv(desc)
        if self.norm is not None:
            out = self.norm(out)
        return torch.sigmoid(out)


@MODELS.register_module()
class CBAM(BaseModule):
    """Convolutional Block Attention Module.

    ``y = x * Mc(x)`` then ``out = y * Ms(y)`` where ``Mc`` is the channel
    gate (shared MLP over average- and max-pooled descriptors) and ``Ms`` the
    spatial gate (a ``spatial_kernel_size`` conv over the channel mean and
    max maps, then a one-channel BatchNorm). Channels and resolution are
    preserved. The MT-CP paper calls its use "1x1 CBAM"; the MLP is made of
    1x1 convolutions, and the spatial kernel is configurable (``1`` for a
    purely per-pixel reading).

    The spatial gate's BatchNorm (``spatial_norm_cfg``) is on by default:
    CBAM's own release (the ``BasicConv`` of its spatial gate: conv without
    bias, ``BatchNorm2d(1, eps=1e-5, momentum=0.01)``, no ReLU) and MT-CP's
    released code both have it, and the MT-CP paper only says "CBAM", so the
    released module is the one its numbers come from. In training mode the
    norm standardises the gate's logits over the batch, which changes the
    outputs noticeably (up to 0.75 on random inputs); ``None`` gives the
    gate without a norm as the CBAM paper's equations write it.

    Args:
        channels (int): Input (= output) channels.
        reduction (int): Channel-gate reduction ratio. Default: 16.
        spatial_kernel_size (int): Odd spatial-gate kernel. Default: 7.
        use_spatial (bool): Whether to apply the spatial gate.
        spatial_norm_cfg (dict, optional): Norm of the spatial gate's logits;
            default ``dict(type='BN', eps=1e-5, momentum=0.01)`` as released,
            ``None`` for none.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 reduction: int = 16,
                 spatial_kernel_size: int = 7,
                 use_spatial: bool = True,
                 spatial_norm_cfg: Optional[dict] = dict(
                     type='BN', eps=1e-5, momentum=0.01),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if channels < 1:
            raise ValueError(f'CBAM channels must be >= 1, got {channels}')
        if reduction < 1:
            raise ValueError(f'CBAM reduction must be >= 1, got {reduction}')
        if spatial_kernel_size < 1 or spatial_kernel_size % 2 == 0:
            raise ValueError('CBAM spatial_kernel_size must be a positive odd '
                             f'integer, got {spatial_kernel_size}')
        self.channels = channels
        self.channel_gate = ChannelAttention(channels, reduction)
        self.spatial_gate = SpatialAttention(
            spatial_kernel_size, spatial_norm_cfg) if use_spatial else None

    def forward(self, x: Tensor) -> Tensor:
        """Apply the channel then the spatial gate.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            Tensor: (B, C, H, W).
        """
        x = x * self.channel_gate(x)
        if self.spatial_gate is not None:
            x = x * self.spatial_gate(x)
        return x
