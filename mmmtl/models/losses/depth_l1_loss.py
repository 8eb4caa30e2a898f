# Copyright (c) mmmtl contributors. All rights reserved.
import torch
import torch.nn as nn
from mmseg.registry import MODELS

from mmmtl.structures import valid_pixels
from .utils import masked_mean


@MODELS.register_module()
class DepthL1Loss(nn.Module):
    """Mean absolute error over valid depth pixels.

    ``loss = sum_valid |pred - gt| / n_valid``, pooled over the batch (as the
    standard multi-task toolbox's depth loss). Invalid pixels (ground truth
    equal to ``ignore_index``, 0) do not contribute, whatever the
    prediction there; with no valid pixel
    the loss is 0 and still differentiable.

    Args:
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key suffix in the loss dict.
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_l1'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                ignore_index: float = 0.0) -> torch.Tensor:
        """Compute the loss (calling convention: :mod:`.utils`).

        Args:
            pred (Tensor): (B, 1, H, W) predicted depth.
            target (Tensor): (B, 1, H, W) ground-truth depth.
            ignore_index (float): Depth of invalid pixels (the task
                table's 0).

        Returns:
            Tensor: Scalar loss.
        """
        valid = valid_pixels(target, ignore_index)
        error = (pred - torch.where(valid, target, pred.detach())).abs()
        return self.loss_weight * masked_mean(error, valid)

    @property
    def loss_name(self) -> str:
        """Key suffix of this loss, e.g. ``'loss_l1'``."""
        return self._loss_name
