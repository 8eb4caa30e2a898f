# Copyright (c) mmmtl contributors. All rights reserved.
"""Base class of every multi-task decode head."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import (TASKS, HeadOutputs, MultiTaskDataSample,
                              check_tasks, stack_gt)
from mmmtl.utils.precision import float32_region, upcast


def resize_concat(inputs: Sequence[Tensor],
                  align_corners: bool = False) -> Tensor:
    """Upsample every map to the first one's size and concatenate channels.

    Args:
        inputs (Sequence[Tensor]): (B, C_i, H_i, W_i) maps.
        align_corners (bool): Interpolation setting.

    Returns:
        Tensor: (B, sum C_i, H_0, W_0).
    """
    size = inputs[0].shape[2:]
    return torch.cat([
        x if x.shape[2:] == size else resize(
            x, size=size, mode='bilinear', align_corners=align_corners)
        for x in inputs
    ], dim=1)


class BaseMultiTaskHead(BaseModule, metaclass=ABCMeta):
    """Shared machinery of multi-task decode heads.

    Subclasses build their decoders and implement :meth:`forward`; this class
    owns the task list, output channels (from the task table, class counts
    from ``num_classes``), per-task losses, loss computation with ignore
    masks for final and deep-supervision outputs, and resizing of
    predictions.

    Args:
        tasks (Sequence[str]): Tasks the head predicts.
        in_channels (int | Sequence[int]): Channels of the selected inputs.
        in_index (int | Sequence[int]): Which backbone/neck outputs to use.
        num_classes (dict[str, int], optional): Classes of discrete tasks,
            e.g. ``dict(semseg=40)``.
        losses (dict[str, dict], optional): Loss config per task; tasks not
            listed use the task table's ``default_loss``.
        deep_supervision_weight (float): Weight of each deep-supervision
            loss relative to the final one.
        align_corners (bool): Interpolation setting for resizing.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 in_channels: Union[int, Sequence[int]],
                 in_index: Union[int, Sequence[int]] = -1,
                 num_classes: Optional[Dict[str, int]] = None,
                 losses: Optional[Dict[str, dict]] = None,
                 deep_supervision_weight: float = 1.0,
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.tasks: List[str] = check_tasks(
            tasks, f'{self.__class__.__name__}.tasks')
        self.in_channels = in_channels
        self.in_index = in_index
        self.num_classes = dict(num_classes or {})
        unknown = set(self.num_classes) - set(self.tasks)
        if unknown:
            raise ValueError(f'num_classes names tasks {sorted(unknown)} '
                             f'that the head does not predict ({self.tasks})')
        self.out_channels: Dict[str, int] = {
            t: TASKS[t].num_outputs(num_classes=self.num_classes.get(t))
            for t in self.tasks
        }
        self.deep_supervision_weight = deep_supervision_weight
        self.align_corners = align_corners
        self.losses = self._build_losses(losses or {})

    def _build_losses(self, losses: Dict[str, dict]) -> nn.ModuleDict:
        unknown = set(losses) - set(self.tasks)
        if unknown:
            raise ValueError(f'losses names tasks {sorted(unknown)} that the '
                             f'head does not predict ({self.tasks})')
        return nn.ModuleDict({
            t: MODELS.build(losses.get(t, TASKS[t].default_loss))
            for t in self.tasks
        })

    def _input_channels_and_strides(self, in_strides: Sequence[int]
                                    ) -> Tuple[List[int], List[int]]:
        """Channels and strides of the inputs selected by ``in_index``.

        Args:
            in_strides (Sequence[int]): Strides of the selected inputs w.r.t.
                the image (extra trailing entries are ignored).

        Returns:
            tuple[list[int], list[int]]: ``in_channels`` and ``in_strides``
            as lists with one entry per selected input.
        """
        in_channels = [self.in_channels] if isinstance(
            self.in_channels, int) else list(self.in_channels)
        num_inputs = 1 if isinstance(self.in_index, int) else len(
            self.in_index)
        if len(in_channels) != num_inputs or len(in_strides) < num_inputs:
            raise ValueError(
                f'{self.__class__.__name__}: in_channels {in_channels} and '
                f'in_strides {tuple(in_strides)} must describe the '
                f'{num_inputs} inputs selected by in_index {self.in_index}')
        return in_channels, list(in_strides)[:num_inputs]

    def _build_classifiers(self, channels: int, dropout_ratio: float) -> None:
        """``self.dropout`` (``Dropout2d`` if ``dropout_ratio > 0``) and one
        1x1 conv ``self.predictors[t]`` per task from ``channels``."""
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 \
            else nn.Identity()
        self.predictors = nn.ModuleDict({
            t: nn.Conv2d(channels, self.out_channels[t], 1)
            for t in self.tasks
        })

    def _classify(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Per-task predictions (B, C_t, H, W) of :meth:`_build_classifiers`
        from per-task features (B, channels, H, W)."""
        return {t: self.predictors[t](self.dropout(f))
                for t, f in feats.items()}

    def _select_inputs(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """The backbone outputs named by ``in_index`` (always a list)."""
        if isinstance(self.in_index, int):
            return [inputs[self.in_index]]
        return [inputs[i] for i in self.in_index]

    @abstractmethod
    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Decode backbone features.

        Args:
            inputs (Sequence[Tensor]): Multi-level features, each
                (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: See :class:`~mmmtl.structures.HeadOutputs`; only
            ``preds`` is required.
        """

    def loss(self, inputs: Sequence[Tensor],
             data_samples: Sequence[MultiTaskDataSample],
             train_cfg: Optional[dict] = None
             ) -> Tuple[Dict[Tuple[str, str], Tensor], HeadOutputs]:
        """Forward and compute unweighted losses.

        Args:
            inputs (Sequence[Tensor]): Backbone/neck features.
            data_samples (Sequence[MultiTaskDataSample]): Batch with ground
                truth (padded to the input size).
            train_cfg (dict, optional): Unused; kept for the mmseg signature.

        Returns:
            tuple: ``losses`` mapping ``(task, name)`` to a scalar, where
            ``name`` is the loss's ``loss_name`` for the final prediction and
            ``'<loss_name>_<ds name>'`` for deep supervision (already scaled
            by ``deep_supervision_weight``), ``(None, name)`` for the head's
            extra losses; and the head outputs (for auxiliary losses).
        """
        outputs = self.forward(inputs)
        return self.loss_by_feat(outputs, data_samples), outputs

    def loss_by_feat(self, outputs: HeadOutputs,
                     data_samples: Sequence[MultiTaskDataSample]
                     ) -> Dict[Tuple[Optional[str], str], Tensor]:
        """Per-task losses of the final and deep-supervision predictions."""
        losses: Dict[Tuple[Optional[str], str], Tensor] = {}
        gts = {t: stack_gt(data_samples, TASKS[t]) for t in self.tasks}
        for task in self.tasks:
            if gts[task] is None:
                continue
            name = self.losses[task].loss_name
            losses[(task, name)] = self.task_loss(
                task, outputs.preds[task], gts[task])
            for ds_name, preds in outputs.deep_supervision.items():
                if task in preds:
                    losses[(task, f'{name}_{ds_name}')] = \
                        self.deep_supervision_weight * self.task_loss(
                            task, preds[task], gts[task])
        for name, value in outputs.extra_losses.items():
            losses[(None, name)] = value
        return losses

    def task_loss(self, task: str, pred: Tensor, gt: Tensor) -> Tensor:
        """Loss of one task's prediction against its ground truth.

        Args:
            task (str): Task name.
            pred (Tensor): (B, C_t, h, w) prediction, resized here to the
                ground truth's size.
            gt (Tensor): (B, C_gt, H, W) ground truth.

        Returns:
            Tensor: Scalar loss (pixels at the task's ``ignore_value``
            excluded; :mod:`mmmtl.models.losses.utils` describes how losses
            are called), computed in float32 for half-precision
            predictions, also under autocast (reductions over every pixel:
            a bfloat16 sum of a batch's per-pixel losses keeps 8
            significant bits).
        """
        spec = TASKS[task]
        (pred, ) = upcast(pred)
        with float32_region(pred.device):
            pred = resize(pred, size=gt.shape[2:], mode='bilinear',
                          align_corners=self.align_corners)
            # the per-task loss calling convention: mmmtl.models.losses.utils
            target = gt[:, 0] if spec.is_discrete else gt.to(pred.dtype)
            return self.losses[task](pred, target,
                                     ignore_index=spec.ignore_value)

    def predict(self, inputs: Sequence[Tensor], batch_img_metas: List[dict],
                test_cfg: Optional[dict] = None) -> Dict[str, Tensor]:
        """Final predictions resized to the (padded) input size.

        Args:
            inputs (Sequence[Tensor]): Backbone/neck features.
            batch_img_metas (list[dict]): Metainfo; ``pad_shape`` or
                ``img_shape`` of the first gives the input size.
            test_cfg (dict, optional): Unused.

        Returns:
            dict[str, Tensor]: task -> (B, C_t, H, W) raw outputs (logits for
            discrete/binary tasks).
        """
        preds = self.forward(inputs).preds
        meta = batch_img_metas[0]
        size = meta.get('pad_shape', meta.get('img_shape'))[:2]
        return {
            t: resize(p, size=size, mode='bilinear',
                      align_corners=self.align_corners)
            for t, p in preds.items()
        }
