# Copyright (c) mmmtl contributors. All rights reserved.
"""MTI-Net decode head."""
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.multi_modal_distillation import \
    MultiModalDistillation
from mmmtl.models.layers.cross_scale_fusion import CrossScaleFusion
from mmmtl.models.layers.multi_scale_initial_predictions import \
    MultiScaleInitialPredictions
from mmmtl.models.layers.prediction_head import PredictionHead
from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead


@MODELS.register_module()
class MTINetHead(BaseMultiTaskHead):
    """MTI-Net (Vandenhende et al., ECCV 2020) as a multi-task decode head.

    1. Multi-scale initial predictions: from the coarsest to the finest
       backbone scale, every task has a :class:`PredictionHead` whose
       predictions are deep-supervised (``'initial_s<stride>'``); a feature
       propagation module mixes the task features of each scale and passes
       them to the next finer scale's heads.
    2. Per-scale multi-modal distillation (PAD-Net's
       element-wise-multiplication attention) at every scale.
    3. Feature aggregation: each task's distilled features of all scales
       are upsampled to the finest scale and fused (cross-scale fusion
       block), then a final :class:`PredictionHead` predicts.

    Choice: the final heads are the same residual heads as the initial ones
    (the CTAL paper's CNN setting), not MTI-Net's HRNet 1x1 head.

    Args:
        channels (int): Width of the task features at every scale.
        in_strides (Sequence[int]): Stride of each selected input, fine to
            coarse.
        feature_propagation (bool): Use the feature propagation module.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int,
                 in_strides: Sequence[int] = (4, 8, 16, 32),
                 feature_propagation: bool = True,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        in_channels, in_strides = self._input_channels_and_strides(
            in_strides)
        self.channels = channels
        self.in_strides = in_strides
        self.initial = MultiScaleInitialPredictions(
            self.tasks, in_channels, channels, self.out_channels,
            feature_propagation=feature_propagation, norm_cfg=norm_cfg,
            act_cfg=act_cfg, align_corners=self.align_corners)
        self.distillation = nn.ModuleList([
            MultiModalDistillation(self.tasks, channels)
            for _ in range(len(in_strides))
        ])
        self.aggregation = nn.ModuleDict({
            t: CrossScaleFusion([channels] * len(in_strides), channels,
                                norm_cfg, act_cfg, self.align_corners)
            for t in self.tasks
        })
        self.final = nn.ModuleDict({
            t: PredictionHead(channels, channels, self.out_channels[t],
                              norm_cfg, act_cfg)
            for t in self.tasks
        })

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Multi-scale initial predictions, distillation, aggregation.

        Args:
            inputs (Sequence[Tensor]): Backbone features (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: ``preds`` task -> (B, C_t, H_0, W_0) at the finest
            scale, ``feats``/``feat_strides`` of the final heads, and in
            training ``deep_supervision['initial_s<stride>']``.
        """
        inputs = self._select_inputs(inputs)
        scale_feats, scale_preds = self.initial(inputs, self.training)
        distilled = [d(f) for d, f in zip(self.distillation, scale_feats)]
        size = tuple(inputs[0].shape[2:])
        final_feats: Dict[str, Tensor] = {}
        preds: Dict[str, Tensor] = {}
        for t in self.tasks:
            agg = self.aggregation[t]([d[t] for d in distilled], size)
            final_feats[t], preds[t] = self.final[t](agg)
        outputs = HeadOutputs(
            preds=preds, feats=final_feats,
            feat_strides={t: self.in_strides[0] for t in self.tasks})
        if self.training:
            outputs.deep_supervision = {
                f'initial_s{s}': p
                for s, p in zip(self.in_strides, scale_preds)
            }
        return outputs
