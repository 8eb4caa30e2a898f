# Copyright (c) mmmtl contributors. All rights reserved.
"""PAD-Net decode head (and the single-scale distillation skeleton)."""
from abc import abstractmethod
from typing import Dict, Optional, Sequence, Union

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.multi_modal_distillation import \
    MultiModalDistillation
from mmmtl.models.layers.cross_scale_fusion import (CrossScaleFusion,
                                                    distill_size)
from mmmtl.models.layers.prediction_head import PredictionHead
from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead
from .final_heads import build_final_heads

Number = Union[int, float]


class SingleScaleDistillationHead(BaseMultiTaskHead):
    """Single-scale task-prediction distillation skeleton.

    Selected backbone features are resized to the distillation scale
    (``1 / distill_stride`` of the input) and fused by a cross-scale fusion
    block; each task gets initial features and an initial prediction
    (:class:`PredictionHead`: two bottleneck blocks + 1x1 conv; the
    prediction is deep-supervised as ``'initial'`` in training); a
    cross-task distillation module (:meth:`distill`) refines the features and
    a final :class:`PredictionHead` per task predicts.

    Args:
        channels (int): Width of the task features.
        in_strides (Sequence[int]): Stride of each selected input, fine to
            coarse.
        distill_stride (int | float): Stride of the distillation scale.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        final_head (dict): Config of the final per-task head, a module
            registered in ``MODELS`` returning ``(features, prediction)``;
            the head adds ``in_channels``, ``channels``, ``out_channels``,
            ``norm_cfg`` and ``act_cfg``. ``dict(type='PredictionHead')``
            (two bottlenecks + 1x1 conv, the CTAL appendix's CNN heads) or
            ``dict(type='ASPPPredictionHead', dilations=(1, 6, 12, 18))``
            (DeepLab-style head, the appendix's transformer heads).
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int,
                 in_strides: Sequence[int] = (4, 8, 16, 32),
                 distill_stride: Number = 4,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 final_head: dict = dict(type='PredictionHead'),
                 **kwargs):
        super().__init__(**kwargs)
        in_channels, in_strides = self._input_channels_and_strides(
            in_strides)
        name = self.__class__.__name__
        if distill_stride <= 0:
            raise ValueError(f'{name}: distill_stride must be positive, got '
                             f'{distill_stride}')
        self.channels = channels
        self.in_strides = in_strides
        self.distill_stride = distill_stride
        self.input_fusion = CrossScaleFusion(in_channels, channels, norm_cfg,
                                             act_cfg, self.align_corners)
        self.initial = nn.ModuleDict({
            t: PredictionHead(channels, channels, self.out_channels[t],
                              norm_cfg, act_cfg)
            for t in self.tasks
        })
        self.final = build_final_heads(final_head, self.tasks, channels,
                                       self.out_channels, norm_cfg, act_cfg)

    @abstractmethod
    def distill(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Cross-task distillation: task -> (B, C, h, w) features -> task ->
        (B, C, h, w) refined features."""

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Initial predictions, distillation, final predictions.

        Args:
            inputs (Sequence[Tensor]): Backbone features (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: ``preds`` task -> (B, C_t, h, w) at the
            distillation scale, ``feats`` task -> (B, channels, h, w) (final
            heads' features), ``feat_strides``, and in training
            ``deep_supervision['initial']``.
        """
        inputs = self._select_inputs(inputs)
        size = distill_size(inputs, self.in_strides[0], self.distill_stride)
        shared = self.input_fusion(inputs, size)
        feats: Dict[str, Tensor] = {}
        initial: Dict[str, Tensor] = {}
        for t in self.tasks:
            feats[t], pred = self.initial[t](shared, self.training)
            if pred is not None:
                initial[t] = pred
        refined = self.distill(feats)
        final_feats: Dict[str, Tensor] = {}
        preds: Dict[str, Tensor] = {}
        for t in self.tasks:
            final_feats[t], preds[t] = self.final[t](refined[t])
        outputs = HeadOutputs(
            preds=preds, feats=final_feats,
            feat_strides={t: self.distill_stride for t in self.tasks})
        if self.training:
            outputs.deep_supervision = {'initial': initial}
        return outputs


@MODELS.register_module()
class PADNetHead(SingleScaleDistillationHead):
    """PAD-Net (Xu et al., CVPR 2018) as a multi-task decode head.

    Initial per-task predictions from one feature scale (the fused backbone
    features at ``1 / distill_stride``), cross-task distillation by
    element-wise-multiplication attention (:class:`MultiModalDistillation`
    in :mod:`mmmtl.models.layers.multi_modal_distillation`:
    ``F_t + sum_{j != t} sigmoid(conv(F_j)) * conv(F_j)``), final per-task
    decoders. The initial/final heads follow the CTAL paper's CNN setting
    (two bottleneck blocks + 1x1 conv).

    Args:
        **kwargs: See :class:`SingleScaleDistillationHead`.
    """

    def __init__(self, init_cfg: Optional[dict] = None, **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.distillation = MultiModalDistillation(self.tasks, self.channels)

    def distill(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Element-wise-multiplication attention distillation."""
        return self.distillation(feats)
