# Copyright (c) mmmtl contributors. All rights reserved.
"""Hard-parameter-sharing head: one small decoder per task."""
from typing import Dict, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.aspp_block import ASPPBlock
from mmmtl.models.layers.bottleneck import Bottleneck
from .base_multitask_head import BaseMultiTaskHead, HeadOutputs, resize_concat

DECODERS = ('conv', 'residual', 'aspp')


def task_decoder(in_channels: int, channels: int, num_convs: int,
                 kernel_size: int, norm_cfg: dict, act_cfg: dict) -> nn.Module:
    """A 1x1 conv-norm-act reducing ``in_channels`` to ``channels``, then
    ``num_convs - 1`` ``kernel_size`` conv-norm-act blocks."""
    layers = [ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                         act_cfg=act_cfg)]
    layers += [
        ConvModule(channels, channels, kernel_size, padding=kernel_size // 2,
                   norm_cfg=norm_cfg, act_cfg=act_cfg)
        for _ in range(num_convs - 1)
    ]
    return nn.Sequential(*layers)


def build_task_decoder(kind: str, in_channels: int, channels: int,
                       num_convs: int, kernel_size: int, norm_cfg: dict,
                       act_cfg: dict, aspp_dilations: Sequence[int],
                       align_corners: bool) -> nn.Module:
    """One task decoder of :class:`HPSHead` (features, no prediction).

    ``'conv'``: :func:`task_decoder`. ``'residual'``: a 3x3 conv-norm-act
    (the cross-scale fusion block of the distillation heads) and two
    residual bottlenecks, i.e. the CTAL appendix's CNN output heads, so the
    STL/MTL baselines share the output heads of the distillation models as
    the paper requires. ``'aspp'``: a DeepLab-v3 ASPP block (the appendix's
    transformer output heads).
    """
    if kind == 'conv':
        return task_decoder(in_channels, channels, num_convs, kernel_size,
                            norm_cfg, act_cfg)
    if kind == 'residual':
        return nn.Sequential(
            ConvModule(in_channels, channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            Bottleneck(channels, channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
    if kind == 'aspp':
        return ASPPBlock(in_channels, channels, aspp_dilations, norm_cfg,
                         act_cfg, align_corners)
    raise ValueError(f'HPSHead: decoder must be one of {DECODERS}, got '
                     f'{kind!r}')


@MODELS.register_module()
class HPSHead(BaseMultiTaskHead):
    """Hard-parameter-sharing multi-task head (the standard MTL baseline).

    The selected backbone outputs are upsampled to the finest selected scale
    and concatenated (as MMSegmentation's HRNet heads do); each task then has
    its own decoder — a 1x1 conv-norm-act reducing the concatenation to
    ``channels`` (as the HRNet heads of the standard multi-task toolbox),
    then ``num_convs - 1`` ``kernel_size`` conv-norm-act blocks — and a 1x1
    prediction layer. With one task it is the single-task baseline
    (:class:`SingleTaskHead`).

    Args:
        channels (int): Width of each task decoder.
        num_convs (int): Conv blocks per task decoder (>= 1).
        kernel_size (int): Kernel of the decoder convs after the first.
        dropout_ratio (float): Dropout before the prediction layers.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        feat_stride (int): Stride of the finest selected input w.r.t. the
            image (reported with the task features for auxiliary losses).
        decoder (str): Task decoder kind, see :func:`build_task_decoder`:
            ``'conv'`` (default, above), ``'residual'`` or ``'aspp'``
            (``num_convs``/``kernel_size`` apply to ``'conv'`` only).
        aspp_dilations (Sequence[int]): ASPP rates for ``'aspp'``.
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 dropout_ratio: float = 0.1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 feat_stride: int = 4,
                 decoder: str = 'conv',
                 aspp_dilations: Sequence[int] = (1, 6, 12, 18),
                 **kwargs):
        super().__init__(**kwargs)
        in_channels = self.in_channels
        total_in = in_channels if isinstance(in_channels, int) else sum(
            in_channels)
        self.channels = channels
        self.feat_stride = feat_stride
        self.decoders = nn.ModuleDict({
            t: build_task_decoder(decoder, total_in, channels, num_convs,
                                  kernel_size, norm_cfg, act_cfg,
                                  aspp_dilations, self.align_corners)
            for t in self.tasks
        })
        self._build_classifiers(channels, dropout_ratio)

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Decode each task from the shared features.

        Args:
            inputs (Sequence[Tensor]): Backbone features (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: ``preds`` (B, C_t, H_0, W_0) and ``feats``
            (B, channels, H_0, W_0) per task, at the finest selected scale.
        """
        shared = resize_concat(self._select_inputs(inputs),
                               self.align_corners)
        feats: Dict[str, Tensor] = {
            t: self.decoders[t](shared) for t in self.tasks
        }
        return dict(preds=self._classify(feats), feats=feats,
                    feat_strides={t: self.feat_stride for t in self.tasks})


@MODELS.register_module()
class SingleTaskHead(HPSHead):
    """:class:`HPSHead` restricted to one task (the single-task baseline).

    Args:
        task (str): The task.
        **kwargs: See :class:`HPSHead` (without ``tasks``).
    """

    def __init__(self, task: str, **kwargs):
        if 'tasks' in kwargs:
            raise ValueError('SingleTaskHead takes `task`, not `tasks`')
        super().__init__(tasks=[task], **kwargs)
