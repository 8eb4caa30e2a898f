# Copyright (c) mmmtl contributors. All rights reserved.
"""Building blocks of the task-prediction-distillation heads.

Shared by PAD-Net, PAP-Net, MTI-Net and CTAL (single- and multi-scale):
residual bottleneck blocks, the per-task prediction head (two bottlenecks +
a 1x1 output conv, as the CTAL appendix describes for initial and final CNN
heads), cross-scale fusion, MTI-Net's feature propagation and the
multi-scale initial predictions with deep supervision.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor

TaskFeats = Dict[str, Tensor]


class Bottleneck(BaseModule):
    """ResNet bottleneck: 1x1 reduce, 3x3, 1x1 expand, identity/projection
    shortcut, ReLU after the sum.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        expansion (int): ``out_channels // expansion`` is the inner width.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 expansion: int = 4,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        mid = max(out_channels // expansion, 1)
        self.conv1 = ConvModule(in_channels, mid, 1, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.conv2 = ConvModule(mid, mid, 3, padding=1, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.conv3 = ConvModule(mid, out_channels, 1, norm_cfg=norm_cfg,
                                act_cfg=None)
        self.shortcut = nn.Identity() if in_channels == out_channels else \
            ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                       act_cfg=None)
        self.act = nn.ReLU(inplace=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, H, W)."""
        return self.act(self.conv3(self.conv2(self.conv1(x))) +
                        self.shortcut(x))


class PredictionHead(BaseModule):
    """Two residual bottleneck blocks and a 1x1 output convolution.

    The features after the second block are what the distillation modules
    (for initial heads) and auxiliary losses (for final heads) consume.

    Args:
        in_channels (int): Input channels.
        channels (int): Width of the blocks (the returned features).
        out_channels (int): Prediction channels.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 out_channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.blocks = nn.Sequential(
            Bottleneck(in_channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
        self.predictor = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: Tensor,
                predict: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
        """Features (B, channels, H, W) and, if ``predict``, the prediction
        (B, out_channels, H, W) (else ``None``)."""
        feat = self.blocks(x)
        return feat, self.predictor(feat) if predict else None


class CrossScaleFusion(BaseModule):
    """Upsample maps to one size, concatenate, fuse with a 3x3 conv block.

    Args:
        in_channels (Sequence[int]): Channels of the maps, in input order.
        channels (int): Output channels.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.align_corners = align_corners
        self.fuse = ConvModule(sum(in_channels), channels, 3, padding=1,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, inputs: Sequence[Tensor],
                size: Tuple[int, int]) -> Tensor:
        """Fuse (B, C_i, H_i, W_i) maps at ``size`` -> (B, channels, *size).
        """
        return self.fuse(torch.cat([
            x if tuple(x.shape[2:]) == tuple(size) else resize(
                x, size=size, mode='bilinear',
                align_corners=self.align_corners) for x in inputs
        ], dim=1))


class SqueezeExcitation(BaseModule):
    """Channel attention: global pool, bottleneck MLP, sigmoid gate."""

    def __init__(self, channels: int, ratio: int = 4,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        hidden = max(channels // ratio, 1)
        self.fc = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=False), nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W) gated."""
        return x * self.fc(x)


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


def distill_size(inputs: Sequence[Tensor], in_stride: Union[int, float],
                 distill_stride: Union[int, float]) -> Tuple[int, int]:
    """Grid size at ``distill_stride`` given the finest input's stride.

    Sizes are converted to ``int`` first: under ``torch.jit.trace`` (FLOP
    counting) ``shape`` entries are tensors, which ``round`` rejects.
    """
    h, w = (int(s) for s in inputs[0].shape[2:])
    ratio = float(in_stride) / float(distill_stride)
    return max(int(round(h * ratio)), 1), max(int(round(w * ratio)), 1)


class ASPPBlock(BaseModule):
    """DeepLab-v3 atrous spatial pyramid pooling block (features only).

    Image pooling (global average pool + 1x1 conv, broadcast back), parallel
    ``3x3`` convs with the given dilations (a ``1x1`` conv for dilation 1,
    MMSegmentation's :class:`ASPPModule`), concatenation and a ``3x3``
    conv-norm-act bottleneck, as MMSegmentation's ``ASPPHead``. The CTAL
    appendix uses "a DeepLab head" for the final predictions of its
    transformer models without giving the rates; the DeepLab-v3 rates
    (1, 6, 12, 18) are the default.

    Args:
        in_channels (int): Input channels.
        channels (int): Width of every branch and of the output.
        dilations (Sequence[int]): Dilation rate per branch.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        # imported here: mmseg's decode_heads package is heavy to import
        from mmseg.models.decode_heads.aspp_head import ASPPModule
        if not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError(f'ASPPBlock: dilations must be positive '
                             f'integers, got {dilations}')
        self.align_corners = align_corners
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
        self.aspp = ASPPModule(tuple(dilations), in_channels, channels,
                               conv_cfg=None, norm_cfg=norm_cfg,
                               act_cfg=act_cfg)
        self.bottleneck = ConvModule((len(dilations) + 1) * channels,
                                     channels, 3, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, channels, H, W)."""
        pooled = resize(self.image_pool(x), size=x.shape[2:],
                        mode='bilinear', align_corners=self.align_corners)
        return self.bottleneck(torch.cat([pooled] + self.aspp(x), dim=1))


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


FINAL_HEADS = ('residual', 'aspp')


def build_final_head(kind: str,
                     in_channels: int,
                     channels: int,
                     out_channels: int,
                     norm_cfg: dict,
                     act_cfg: dict,
                     aspp_dilations: Sequence[int] = (1, 6, 12, 18),
                     align_corners: bool = False) -> BaseModule:
    """Final per-task head of the distillation decoders.

    Args:
        kind (str): ``'residual'`` (two bottlenecks + 1x1 conv, the CTAL
            appendix's CNN heads) or ``'aspp'`` (DeepLab-style head, the
            appendix's transformer heads).
        in_channels, channels, out_channels (int): See
            :class:`PredictionHead`.
        norm_cfg, act_cfg (dict): Layer configs.
        aspp_dilations (Sequence[int]): ASPP rates (``'aspp'`` only).
        align_corners (bool): Interpolation setting (``'aspp'`` only).

    Returns:
        BaseModule: A module returning ``(features, prediction)``.
    """
    if kind == 'residual':
        return PredictionHead(in_channels, channels, out_channels, norm_cfg,
                              act_cfg)
    if kind == 'aspp':
        return ASPPPredictionHead(in_channels, channels, out_channels,
                                  aspp_dilations, norm_cfg, act_cfg,
                                  align_corners)
    raise ValueError(f'final_head must be one of {FINAL_HEADS}, got '
                     f'{kind!r}')
