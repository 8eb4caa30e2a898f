# Copyright (c) mmmtl contributors. All rights reserved.
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.structures import valid_pixels


@MODELS.register_module()
class BalancedBCELoss(nn.Module):
    """Class-balanced binary cross-entropy on logits (edges, saliency).

    ``loss = (w * sum_pos bce + (1 - w) * sum_neg bce) / n_valid`` over valid
    pixels (ground truth not 255), as the balanced cross-entropy of the
    standard multi-task toolbox (which divides by all pixels; the two agree
    when there is no ignored pixel).

    * ``pos_weight=0.95``: fixed weight of positives (the toolbox's edge
      loss).
    * ``pos_weight='auto'``: ``w`` is the fraction of negatives among the
      valid pixels of the batch (HED-style balancing; the toolbox's saliency
      loss).
    * ``pos_weight=None``: plain binary cross-entropy (mean over valid
      pixels).

    Args:
        pos_weight (float | str | None): See above.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key suffix in the loss dict.
    """

    def __init__(self, pos_weight: Union[float, str, None] = 'auto',
                 loss_weight: float = 1.0, loss_name: str = 'loss_bce'):
        super().__init__()
        if isinstance(pos_weight, str) and pos_weight != 'auto':
            raise ValueError("pos_weight must be a float, 'auto' or None, "
                             f'got {pos_weight!r}')
        if isinstance(pos_weight, float) and not 0 <= pos_weight <= 1:
            raise ValueError(f'pos_weight must be in [0, 1], got {pos_weight}')
        self.pos_weight = pos_weight
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                ignore_index: int = 255) -> torch.Tensor:
        """Compute the loss (calling convention: :mod:`.utils`).

        Args:
            pred (Tensor): (B, 1, H, W) logits.
            target (Tensor): (B, 1, H, W) labels in {0, 1} or
                ``ignore_index``.
            ignore_index (int): Label of ignored pixels (the task table's
                255).

        Returns:
            Tensor: Scalar loss.
        """
        valid_f = valid_pixels(target, ignore_index).to(pred.dtype)
        positive = (target == 1).to(pred.dtype) * valid_f
        negative = valid_f - positive
        bce = F.binary_cross_entropy_with_logits(
            pred, positive, reduction='none')
        n_valid = valid_f.sum().clamp(min=1.0)
        w = self._positive_weight(positive, n_valid)
        if w is None:
            loss = (bce * valid_f).sum() / n_valid
        else:
            loss = (w * (bce * positive).sum() +
                    (1 - w) * (bce * negative).sum()) / n_valid
        return self.loss_weight * loss

    def _positive_weight(self, positive: torch.Tensor,
                         n_valid: torch.Tensor) -> Optional[torch.Tensor]:
        if self.pos_weight == 'auto':
            return (1.0 - positive.sum() / n_valid).detach()
        return self.pos_weight

    @property
    def loss_name(self) -> str:
        """Key suffix of this loss, e.g. ``'loss_bce'``."""
        return self._loss_name
