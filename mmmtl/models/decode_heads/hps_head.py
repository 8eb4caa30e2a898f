# Copyright (c) mmmtl contributors. All rights reserved.
"""Hard-parameter-sharing head: one small decoder per task."""
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead, resize_concat

def _build_decoder(cfg: dict, in_channels: int, channels: int,
                   norm_cfg: dict, act_cfg: dict) -> nn.Module:
    """A task decoder of :class:`HPSHead` from its config."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(
            f"HPSHead: decoder must be a config dict of a registered module, "
            f"e.g. dict(type='ConvTaskDecoder', num_convs=2), "
            f"dict(type='ResidualTaskDecoder') or dict(type='ASPPBlock'); "
            f"got {cfg!r}")
    for key in ('in_channels', 'channels'):
        if key in cfg:
            raise ValueError(f'HPSHead: decoder={cfg!r} sets {key!r}, which '
                             f'the head sets itself')
    built = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
    built.update(cfg)
    built.update(in_channels=in_channels, channels=channels)
    return MODELS.build(built)


@MODELS.register_module()
class HPSHead(BaseMultiTaskHead):
    """Hard-parameter-sharing multi-task head (the standard MTL baseline).

    The selected backbone outputs are upsampled to the finest selected scale
    and concatenated (as MMSegmentation's HRNet heads do); each task then has
    its own decoder (by default a 1x1 conv-norm-act reducing the
    concatenation to ``channels``, as the HRNet heads of the standard
    multi-task toolbox, then a 3x3 conv-norm-act block) and a 1x1
    prediction layer. With one task it is the single-task baseline
    (:class:`SingleTaskHead`).

    Args:
        channels (int): Width of each task decoder.
        dropout_ratio (float): Dropout before the prediction layers.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        feat_stride (int): Stride of the finest selected input w.r.t. the
            image (reported with the task features for auxiliary losses).
        decoder (dict): Config of the task decoder, a module registered in
            ``MODELS`` mapping (B, C_in, H, W) to (B, channels, H, W)
            features; the head adds ``in_channels``, ``channels``,
            ``norm_cfg`` and ``act_cfg``.
            ``dict(type='ConvTaskDecoder', num_convs=2, kernel_size=3)``
            (default, above), ``dict(type='ResidualTaskDecoder')`` (a 3x3
            conv block and two bottlenecks, the CTAL appendix's CNN output
            heads) or ``dict(type='ASPPBlock', dilations=(1, 6, 12, 18))``
            (the appendix's transformer output heads).
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int,
                 dropout_ratio: float = 0.1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 feat_stride: int = 4,
                 decoder: dict = dict(type='ConvTaskDecoder', num_convs=2,
                                      kernel_size=3),
                 **kwargs):
        super().__init__(**kwargs)
        in_channels = self.in_channels
        total_in = in_channels if isinstance(in_channels, int) else sum(
            in_channels)
        self.channels = channels
        self.feat_stride = feat_stride
        self.decoders = nn.ModuleDict({
            t: _build_decoder(decoder, total_in, channels, norm_cfg, act_cfg)
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
        return HeadOutputs(
            preds=self._classify(feats), feats=feats,
            feat_strides={t: self.feat_stride for t in self.tasks})


@MODELS.register_module()
class SingleTaskHead(HPSHead):
    """:class:`HPSHead` restricted to one task (the single-task baseline).

    Args:
        task (str, optional): The task.
        tasks (Sequence[str], optional): The task as a one-element list
            instead (as the segmentor fills it in from ``model.tasks``);
            give ``task`` or ``tasks``, not both.
        **kwargs: See :class:`HPSHead`.
    """

    def __init__(self, task: Optional[str] = None,
                 tasks: Optional[Sequence[str]] = None, **kwargs):
        if (task is None) == (tasks is None):
            raise ValueError('SingleTaskHead needs its task: give `task` or '
                             f'`tasks` (one of them), got task={task!r}, '
                             f'tasks={tasks!r}')
        if tasks is not None:
            if isinstance(tasks, str) or len(tasks) != 1:
                raise ValueError(f'SingleTaskHead predicts one task; got '
                                 f'tasks={tasks!r}')
            task = tasks[0]
        super().__init__(tasks=[task], **kwargs)
