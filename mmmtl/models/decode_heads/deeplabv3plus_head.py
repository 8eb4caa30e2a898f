# Copyright (c) mmmtl contributors. All rights reserved.
"""Multi-task DeepLab-v3+ head: one DeepLab-v3+ decoder per task."""
from typing import Sequence

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.deeplabv3plus_decoder import DeepLabV3PlusDecoder
from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead


@MODELS.register_module()
class DeepLabV3PlusHead(BaseMultiTaskHead):
    """DeepLab-v3+ decoder(s) and a ``1x1`` classifier per task.

    With ``shared_decoder=True`` (default) the whole DeepLab-v3+ (encoder
    and :class:`~mmmtl.models.layers.DeepLabV3PlusDecoder`) is shared and
    the tasks branch at its last feature map, each with its own classifier:
    CompL's set-up ("we treat the entire network as a single unit ... and
    branch out at the last layer"). With ``shared_decoder=False`` each task
    has its own decoder on the shared encoder (the ASTMT-style multi-task
    DeepLab-v3+). The decoder output (``channels``, 256, at the low-level
    stride) is each task's ``feats`` entry: CompL's auxiliary
    self-supervised heads read it (``head_task``), and so do CCR's
    projectors.

    Args:
        channels (int): Decoder width (256).
        c1_channels (int): Low-level reduction width (48).
        dilations (Sequence[int]): ASPP rates; (1, 6, 12, 18) for an
            output-stride-16 encoder.
        dropout_ratio (float): Dropout before the classifiers.
        norm_cfg (dict): Norm layer config of the decoders.
        act_cfg (dict): Activation config.
        feat_stride (int): Stride of the low-level input (4 for ResNets).
        shared_decoder (bool): One decoder for all tasks (True) or one per
            task.
        **kwargs: See :class:`BaseMultiTaskHead`; ``in_index`` selects two
            inputs, (low-level, high-level), e.g. ``(0, 3)``, with
            ``in_channels`` e.g. ``(256, 2048)``.
    """

    def __init__(self,
                 channels: int = 256,
                 c1_channels: int = 48,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 dropout_ratio: float = 0.1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 feat_stride: int = 4,
                 shared_decoder: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        in_channels, _ = self._input_channels_and_strides((feat_stride, ) *
                                                          2)
        if len(in_channels) != 2:
            raise ValueError(
                f'DeepLabV3PlusHead: in_index must select two inputs '
                f'(low-level, high-level), got in_index={self.in_index}, '
                f'in_channels={self.in_channels}')
        self.channels = channels
        self.feat_stride = feat_stride
        self.shared_decoder = shared_decoder
        self.decoders = nn.ModuleDict({
            name: DeepLabV3PlusDecoder(in_channels[0], in_channels[1],
                                       channels, c1_channels, dilations,
                                       norm_cfg, act_cfg, self.align_corners)
            for name in (['shared'] if shared_decoder else self.tasks)
        })
        self._build_classifiers(channels, dropout_ratio)

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Decode each task.

        Args:
            inputs (Sequence[Tensor]): Backbone features; ``in_index``
                picks (B, C_low, H, W) and (B, C_high, h, w).

        Returns:
            HeadOutputs: ``preds`` (B, C_t, H, W) and ``feats``
            (B, channels, H, W) per task.
        """
        low, high = self._select_inputs(inputs)
        if self.shared_decoder:
            shared = self.decoders['shared'](low, high)
            feats = {t: shared for t in self.tasks}
        else:
            feats = {t: self.decoders[t](low, high) for t in self.tasks}
        return HeadOutputs(
            preds=self._classify(feats), feats=feats,
            feat_strides={t: self.feat_stride for t in self.tasks})
