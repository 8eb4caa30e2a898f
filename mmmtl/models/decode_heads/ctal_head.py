# Copyright (c) mmmtl contributors. All rights reserved.
"""CTAL decode head: single-scale and multi-scale task-prediction
distillation with the Cross-Task Affinity Learning module."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.cross_task_affinity import CrossTaskAffinity
from mmmtl.models.layers.cross_scale_fusion import (CrossScaleFusion,
                                                    distill_size)
from mmmtl.models.layers.multi_scale_initial_predictions import \
    MultiScaleInitialPredictions
from mmmtl.models.layers.prediction_head import PredictionHead
from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead
from .final_heads import build_final_heads

Number = Union[int, float]


def resolve_grid(crop_size: Optional[Sequence[int]],
                 grid_size: Optional[Sequence[int]],
                 distill_stride: Number,
                 owner: str = 'CTALHead') -> Tuple[int, int]:
    """The distillation grid a CTAL module is built for.

    Args:
        crop_size (Sequence[int], optional): Training crop (H, W).
        grid_size (Sequence[int], optional): Explicit grid (H, W).
        distill_stride (int | float): Distillation stride (4, 6, 8: the
            1/4, 1/6, 1/8 scales of the paper's resource table).
        owner (str): Name used in error messages.

    Returns:
        tuple[int, int]: The grid; ``crop_size / distill_stride`` when the
        crop is given (it must divide exactly, and must agree with
        ``grid_size`` when both are given).
    """
    if distill_stride <= 0:
        raise ValueError(f'{owner}: distill_stride must be positive, got '
                         f'{distill_stride}')
    derived = None
    if crop_size is not None:
        if len(crop_size) != 2:
            raise ValueError(f'{owner}: crop_size must be (H, W), got '
                             f'{crop_size}')
        exact = [s / distill_stride for s in crop_size]
        if any(abs(e - round(e)) > 1e-6 for e in exact):
            raise ValueError(
                f'{owner}: crop_size {tuple(crop_size)} is not divisible by '
                f'distill_stride {distill_stride}: the CTAL grid would be '
                f'{tuple(exact)}; choose a crop that is a multiple of the '
                f'stride')
        derived = (int(round(exact[0])), int(round(exact[1])))
    if grid_size is not None:
        grid = tuple(int(s) for s in grid_size)
        if len(grid) != 2 or min(grid) < 1:
            raise ValueError(f'{owner}: grid_size must be two positive ints, '
                             f'got {grid_size}')
        if derived is not None and grid != derived:
            raise ValueError(
                f'{owner}: grid_size {grid} does not match the training '
                f'crop: crop_size {tuple(crop_size)} / distill_stride '
                f'{distill_stride} = {derived}. The grouped convolution has '
                f'one kernel per grid position, so the grid must be the one '
                f'the model trains at')
        return grid
    if derived is None:
        raise ValueError(
            f'{owner}: give crop_size (the training crop, (H, W)) or '
            f'grid_size (the distillation grid): CTAL\'s grouped '
            f'convolution has one kernel per grid position')
    return derived


@MODELS.register_module()
class CTALHead(BaseMultiTaskHead):
    """Task-prediction distillation with CTAL (Sinodinos & Armanfard, WACV
    2025), in its single-scale (CTAL-SS) or multi-scale (CTAL-MS) framework.

    * Single scale: the selected backbone features are resized to the
      distillation grid and fused (cross-scale fusion, one 3x3 conv block);
      every task gets initial features and an initial prediction from a
      :class:`PredictionHead` (two bottleneck blocks + 1x1 conv).
    * Multi scale: every task has a :class:`PredictionHead` at every
      backbone scale (initial predictions with deep supervision, MTI-Net
      style, without feature propagation); a per-task cross-scale fusion
      block merges each task's features of all scales at the distillation
      grid.

    Then one :class:`CrossTaskAffinity` refines all tasks' features and a
    final per-task :class:`PredictionHead` predicts.

    The authors' released model (EMA-Net repository) wraps the affinity
    module, which the paper does not describe: a per-task 1x1 ``conv_in``
    reducing the features to ``wrapper_channels`` (128 there), and a
    per-task ``conv_out`` that upsamples 2x (``ConvTranspose2d(k=2, s=2)``
    -> BN -> ReLU -> 3x3 conv), so the final heads run at twice the
    distillation resolution. ``released_wrapper=True`` adds that wrapper;
    the default follows the paper (no wrapper, final heads at the
    distillation scale). The distillation scale
    is ``1 / distill_stride`` of the input (4, 6, 8 in the paper's resource
    table); the CTAL grid is ``crop_size / distill_stride`` (or
    ``grid_size``) and inputs of other sizes are resampled to it inside the
    CTAL module (see :class:`CrossTaskAffinity`).

    Outputs: ``preds`` at the distillation scale; ``feats``/``feat_strides``:
    the final heads' features; ``deep_supervision`` (training only):
    ``'initial'`` (single scale) or ``'initial_s<stride>'`` per backbone
    scale (multi scale).

    Args:
        channels (int): Width of the task features.
        multi_scale (bool): CTAL-MS instead of CTAL-SS.
        in_strides (Sequence[int]): Stride of each selected input, fine to
            coarse (HRNet / ResNet: 4, 8, 16, 32).
        distill_stride (int | float): Stride of the distillation grid.
        crop_size (Sequence[int], optional): Training crop (H, W).
        grid_size (Sequence[int], optional): Explicit CTAL grid (H, W).
        kernel_size (int): Grouped-conv kernel ``f``.
        gamma (float): Blending factor.
        shared_fusion (bool): One grouped conv for all tasks.
        scale_by_hw (bool): Scale diffused features by ``1 / HW``.
        memory_efficient (bool): Chunked affinity path.
        chunk_size (int | str): Anchor rows per block of the
            memory-efficient path, or ``'auto'`` to size the block from a
            memory budget (see ``mmmtl.models.layers.affinity``).
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        final_head (dict): Config of the final per-task head, a module
            registered in ``MODELS`` returning ``(features, prediction)``;
            the head adds ``in_channels``, ``channels``, ``out_channels``,
            ``norm_cfg`` and ``act_cfg``. ``dict(type='PredictionHead')``
            (two bottlenecks + 1x1 conv, the CTAL appendix's CNN heads) or
            ``dict(type='ASPPPredictionHead', dilations=(1, 6, 12, 18))``
            (DeepLab-style head, the appendix's transformer heads).
        released_wrapper (bool): Add the released model's ``conv_in`` /
            ``conv_out`` (2x upsampling) around the CTAL module.
        wrapper_channels (int, optional): Width inside the wrapper (the
            CTAL module and the final heads); ``None``: ``channels``. The
            released model uses 128 with ``channels=256``.
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int,
                 multi_scale: bool = False,
                 in_strides: Sequence[int] = (4, 8, 16, 32),
                 distill_stride: Number = 4,
                 crop_size: Optional[Sequence[int]] = None,
                 grid_size: Optional[Sequence[int]] = None,
                 kernel_size: int = 3,
                 gamma: float = 0.05,
                 shared_fusion: bool = False,
                 scale_by_hw: bool = False,
                 memory_efficient: bool = False,
                 chunk_size: Union[int, str] = 256,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 final_head: dict = dict(type='PredictionHead'),
                 released_wrapper: bool = False,
                 wrapper_channels: Optional[int] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if wrapper_channels is not None and not released_wrapper:
            raise ValueError('CTALHead: wrapper_channels is only used with '
                             'released_wrapper=True')
        if wrapper_channels is not None and wrapper_channels < 1:
            raise ValueError(f'CTALHead: wrapper_channels must be >= 1, got '
                             f'{wrapper_channels}')
        in_channels, in_strides = self._input_channels_and_strides(
            in_strides)
        self.channels = channels
        self.multi_scale = multi_scale
        self.in_strides = in_strides
        self.distill_stride = distill_stride
        grid = resolve_grid(crop_size, grid_size, distill_stride)
        if multi_scale:
            self.initial = MultiScaleInitialPredictions(
                self.tasks, in_channels, channels, self.out_channels,
                feature_propagation=False, norm_cfg=norm_cfg,
                act_cfg=act_cfg, align_corners=self.align_corners)
            self.scale_fusion = nn.ModuleDict({
                t: CrossScaleFusion([channels] * len(in_strides), channels,
                                    norm_cfg, act_cfg, self.align_corners)
                for t in self.tasks
            })
        else:
            self.input_fusion = CrossScaleFusion(in_channels, channels,
                                                 norm_cfg, act_cfg,
                                                 self.align_corners)
            self.initial = nn.ModuleDict({
                t: PredictionHead(channels, channels, self.out_channels[t],
                                  norm_cfg, act_cfg)
                for t in self.tasks
            })
        self.released_wrapper = released_wrapper
        inner = (wrapper_channels or channels) if released_wrapper \
            else channels
        if released_wrapper:
            self.conv_in = nn.ModuleDict({
                t: nn.Conv2d(channels, inner, 1)
                for t in self.tasks
            })
            self.conv_out = nn.ModuleDict({
                t: nn.Sequential(
                    nn.ConvTranspose2d(inner, inner, 2, stride=2),
                    build_norm_layer(norm_cfg, inner)[1],
                    build_activation_layer(act_cfg),
                    nn.Conv2d(inner, inner, 3, padding=1))
                for t in self.tasks
            })
        self.ctal = CrossTaskAffinity(
            self.tasks, inner, grid, kernel_size=kernel_size, gamma=gamma,
            shared_fusion=shared_fusion, scale_by_hw=scale_by_hw,
            memory_efficient=memory_efficient, chunk_size=chunk_size,
            align_corners=self.align_corners)
        self.final = build_final_heads(final_head, self.tasks, inner,
                                       self.out_channels, norm_cfg, act_cfg)

    def _initial_single_scale(
            self, inputs: List[Tensor], size: Tuple[int, int]
    ) -> Tuple[Dict[str, Tensor], Dict[str, Dict[str, Tensor]]]:
        shared = self.input_fusion(inputs, size)
        feats, preds = {}, {}
        for t in self.tasks:
            feats[t], pred = self.initial[t](shared, self.training)
            if pred is not None:
                preds[t] = pred
        return feats, ({'initial': preds} if self.training else {})

    def _initial_multi_scale(
            self, inputs: List[Tensor], size: Tuple[int, int]
    ) -> Tuple[Dict[str, Tensor], Dict[str, Dict[str, Tensor]]]:
        scale_feats, scale_preds = self.initial(inputs, self.training)
        feats = {
            t: self.scale_fusion[t]([f[t] for f in scale_feats], size)
            for t in self.tasks
        }
        deep = {}
        if self.training:
            deep = {f'initial_s{s}': p
                    for s, p in zip(self.in_strides, scale_preds)}
        return feats, deep

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Initial predictions, CTAL refinement, final predictions.

        Args:
            inputs (Sequence[Tensor]): Backbone features (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: ``preds`` task -> (B, C_t, h, w) at the
            distillation scale (twice that with ``released_wrapper``),
            ``feats`` task -> (B, channels, h, w) (``wrapper_channels``),
            ``feat_strides``, and ``deep_supervision`` in training.
        """
        inputs = self._select_inputs(inputs)
        size = distill_size(inputs, self.in_strides[0], self.distill_stride)
        if self.multi_scale:
            feats, deep = self._initial_multi_scale(inputs, size)
        else:
            feats, deep = self._initial_single_scale(inputs, size)
        if self.released_wrapper:
            feats = {t: self.conv_in[t](f) for t, f in feats.items()}
        refined = self.ctal(feats)
        stride = self.distill_stride
        if self.released_wrapper:
            refined = {t: self.conv_out[t](f) for t, f in refined.items()}
            stride = stride / 2
            stride = int(stride) if float(stride).is_integer() else stride
        final_feats, preds = {}, {}
        for t in self.tasks:
            final_feats[t], preds[t] = self.final[t](refined[t])
        outputs = HeadOutputs(
            preds=preds, feats=final_feats,
            feat_strides={t: stride for t in self.tasks})
        if deep:
            outputs.deep_supervision = deep
        return outputs
