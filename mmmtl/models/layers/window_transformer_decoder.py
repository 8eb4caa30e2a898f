# Copyright (c) mmmtl contributors. All rights reserved.
"""A light hierarchical window-transformer (Swin) task decoder."""
from typing import List, Sequence

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.backbones.swin import SwinBlockSequence
from mmseg.models.utils.embed import PatchMerging
from torch import Tensor


class WindowTransformerDecoder(BaseModule):
    """MT-CP's task-specific decoder: K Swin stages with patch merging.

    Built from MMSegmentation's Swin stages
    (:class:`mmseg.models.backbones.swin.SwinBlockSequence`, shifted-window
    attention in every other block) and
    :class:`mmseg.models.utils.PatchMerging`. Stage ``k`` (0-based) works at
    ``2**k`` times the input stride with ``embed_dims * 2**k`` channels; the
    output of every stage is layer-normalised (as MMSegmentation's
    ``SwinTransformer`` does for its outputs) and returned finest first.
    MT-CP uses K = 3 stages of depths (1, 2, 1) and 2 heads each (the
    released settings), so a 1/4 input gives 1/4, 1/8 and 1/16 features.

    Odd sizes are fine: window attention pads to a multiple of the window
    and patch merging pads its input ('corner' padding).

    Args:
        embed_dims (int): Channels of the input and of the first stage.
        depths (Sequence[int]): Blocks per stage.
        num_heads (Sequence[int]): Attention heads per stage.
        window_size (int): Window size.
        mlp_ratio (float): FFN hidden width / channels.
        drop_path_rate (float): Stochastic depth, linearly increasing over
            all blocks.
        norm_cfg (dict): Norm of the blocks and outputs (LayerNorm).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 depths: Sequence[int] = (1, 2, 1),
                 num_heads: Sequence[int] = (2, 2, 2),
                 window_size: int = 7,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 norm_cfg: dict = dict(type='LN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        depths, num_heads = list(depths), list(num_heads)
        if len(depths) != len(num_heads) or not depths:
            raise ValueError('depths and num_heads must be non-empty and of '
                             f'equal length, got {depths} and {num_heads}')
        self.out_channels: List[int] = [
            embed_dims * 2**k for k in range(len(depths))
        ]
        for k, (c, h) in enumerate(zip(self.out_channels, num_heads)):
            if c % h:
                raise ValueError(f'stage {k} has {c} channels, not divisible '
                                 f'by num_heads[{k}]={h}')
        total = sum(depths)
        rates = [drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        self.stages = nn.ModuleList()
        self.norms = nn.ModuleList()
        start = 0
        for k, (depth, heads) in enumerate(zip(depths, num_heads)):
            channels = self.out_channels[k]
            last = k == len(depths) - 1
            downsample = None if last else PatchMerging(
                in_channels=channels, out_channels=2 * channels,
                stride=2, norm_cfg=norm_cfg)
            self.stages.append(SwinBlockSequence(
                embed_dims=channels,
                num_heads=heads,
                feedforward_channels=int(mlp_ratio * channels),
                depth=depth,
                window_size=window_size,
                drop_path_rate=rates[start:start + depth],
                downsample=downsample,
                norm_cfg=norm_cfg))
            self.norms.append(build_norm_layer(norm_cfg, channels)[1])
            start += depth

    def forward(self, x: Tensor) -> List[Tensor]:
        """Run the stages.

        Args:
            x (Tensor): (B, embed_dims, H, W) input features.

        Returns:
            list[Tensor]: K maps (B, embed_dims * 2**k, ceil(H / 2**k),
            ceil(W / 2**k)), finest first.
        """
        b, _, h, w = x.shape
        hw_shape = (h, w)
        tokens = x.flatten(2).transpose(1, 2)
        outs = []
        for stage, norm in zip(self.stages, self.norms):
            tokens, next_shape, out, out_shape = stage(tokens, hw_shape)
            out = norm(out)
            outs.append(out.transpose(1, 2).reshape(b, -1, *out_shape))
            hw_shape = next_shape
        return outs
