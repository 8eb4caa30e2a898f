# Copyright (c) mmmtl contributors. All rights reserved.
"""Per-task initial predictions at every backbone scale."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from .feature_propagation import FeaturePropagation
from .prediction_head import PredictionHead

TaskFeats = Dict[str, Tensor]


@MODELS.register_module()
class MultiScaleInitialPredictions(BaseModule):
    """Per-task initial predictions at every backbone scale (MTI-Net style).

    Scales are processed from coarse to fine. At each scale every task has
    its own :class:`PredictionHead` on the backbone features of that scale;
    with ``feature_propagation`` (MTI-Net) a :class:`FeaturePropagation`
    block mixes the task features of a scale and each task's result is
    upsampled and concatenated to the backbone features of the next finer
    scale. CTAL-MS uses it without propagation (the paper's Fig. 1 shows
    independent per-scale initial predictions fused afterwards).

    Args:
        tasks (Sequence[str]): Tasks.
        in_channels (Sequence[int]): Backbone channels per scale, fine to
            coarse.
        channels (int): Width of the task features at every scale.
        out_channels (dict[str, int]): Prediction channels per task.
        feature_propagation (bool): Use MTI-Net's FPM between scales.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 in_channels: Sequence[int],
                 channels: int,
                 out_channels: Dict[str, int],
                 feature_propagation: bool = False,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.tasks = list(tasks)
        self.num_scales = len(in_channels)
        self.feature_propagation = feature_propagation
        self.align_corners = align_corners
        coarsest = self.num_scales - 1
        self.heads = nn.ModuleList()
        for i, c_in in enumerate(in_channels):
            extra = channels if feature_propagation and i < coarsest else 0
            self.heads.append(nn.ModuleDict({
                t: PredictionHead(c_in + extra, channels, out_channels[t],
                                  norm_cfg, act_cfg)
                for t in self.tasks
            }))
        # FPM after every scale except the finest (nothing to feed).
        self.propagation = nn.ModuleList([
            FeaturePropagation(self.tasks, channels, norm_cfg, act_cfg)
            for _ in range(self.num_scales - 1)
        ]) if feature_propagation else None

    def forward(self, inputs: Sequence[Tensor], predict: bool = True
                ) -> Tuple[List[TaskFeats], List[Optional[TaskFeats]]]:
        """Run every scale.

        Args:
            inputs (Sequence[Tensor]): Backbone features, fine to coarse,
                (B, C_i, H_i, W_i).
            predict (bool): Also compute the initial predictions (deep
                supervision; skipped at inference).

        Returns:
            tuple: ``feats[i]`` task -> (B, channels, H_i, W_i) and
            ``preds[i]`` task -> (B, C_t, H_i, W_i) (``None`` entries when
            ``predict`` is False), both indexed fine to coarse.
        """
        if len(inputs) != self.num_scales:
            raise ValueError(f'expected {self.num_scales} feature scales, '
                             f'got {len(inputs)}')
        feats: List[TaskFeats] = [{} for _ in inputs]
        preds: List[Optional[TaskFeats]] = [
            {} if predict else None for _ in inputs
        ]
        propagated: Optional[TaskFeats] = None
        for i in reversed(range(self.num_scales)):
            x = inputs[i]
            for t in self.tasks:
                task_in = x
                if propagated is not None:
                    task_in = torch.cat([
                        x, resize(propagated[t], size=x.shape[2:],
                                  mode='bilinear',
                                  align_corners=self.align_corners)
                    ], dim=1)
                feat, pred = self.heads[i][t](task_in, predict)
                feats[i][t] = feat
                if predict:
                    preds[i][t] = pred
            if self.propagation is not None and i > 0:
                propagated = self.propagation[i - 1](feats[i])
        return feats, preds

