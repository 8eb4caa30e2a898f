# Copyright (c) mmmtl contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.structures import valid_pixels
from .utils import masked_mean


@MODELS.register_module()
class NormalsLoss(nn.Module):
    """Loss between unit-normalised predicted normals and the ground truth.

    * ``mode='l1'`` (default, as the standard multi-task toolbox): the
      prediction is L2-normalised per pixel and the L1 distance to the
      ground truth is summed over the 3 channels and averaged over valid
      pixels: ``sum_valid ||n_hat - n||_1 / n_valid``.
    * ``mode='cosine'``: ``mean_valid (1 - <n_hat, n>)``.

    A pixel is valid when its ground-truth vector is not all
    ``ignore_index`` (zero).

    Args:
        mode (str): ``'l1'`` or ``'cosine'``.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key suffix in the loss dict.
    """

    def __init__(self, mode: str = 'l1', loss_weight: float = 1.0,
                 loss_name: str = 'loss_normals'):
        super().__init__()
        if mode not in ('l1', 'cosine'):
            raise ValueError(f"NormalsLoss mode must be 'l1' or 'cosine', "
                             f'got {mode!r}')
        self.mode = mode
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                ignore_index: float = 0.0) -> torch.Tensor:
        """Compute the loss (calling convention: :mod:`.utils`).

        Args:
            pred (Tensor): (B, 3, H, W) predicted (unnormalised) normals.
            target (Tensor): (B, 3, H, W) unit normals, ``ignore_index``
                (the task table's 0) in every channel where invalid.
            ignore_index (float): Value of invalid pixels.

        Returns:
            Tensor: Scalar loss.
        """
        valid = valid_pixels(target, ignore_index)
        unit = F.normalize(pred, p=2, dim=1, eps=1e-12)
        if self.mode == 'l1':
            per_pixel = (unit - target).abs().sum(dim=1, keepdim=True)
        else:
            per_pixel = 1.0 - (unit * target).sum(dim=1, keepdim=True)
        return self.loss_weight * masked_mean(per_pixel, valid)

    @property
    def loss_name(self) -> str:
        """Key suffix of this loss, e.g. ``'loss_normals'``."""
        return self._loss_name
