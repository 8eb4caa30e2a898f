# Copyright (c) mmmtl contributors. All rights reserved.
"""Geometric loss strategy (Chennupati et al., CVPRW 2019)."""
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import LossBasedMethod


@MTL_METHODS.register_module(name='GLS')
class GeometricLossStrategy(LossBasedMethod):
    """GLS: optimise the geometric mean ``(prod_t L_t)^(1/T)`` of the task
    losses (`arXiv:1904.08492 <https://arxiv.org/abs/1904.08492>`_).

    Its gradient is ``sum_t (GLS / (T L_t)) grad L_t``: a task is weighted
    by the inverse of its loss, which makes the update invariant to each
    loss's scale. ``GLS = exp(mean_t log L_t)``; losses must be positive
    (they are clamped at ``eps``).

    Args:
        eps (float): Smallest loss value used. Default: 1e-12.
    """

    def __init__(self, eps: float = 1e-12) -> None:
        super().__init__()
        self.eps = float(eps)

    def loss_weights(self, losses: Tensor) -> Tensor:
        """``GLS / (T L_t)``."""
        losses = losses.double().clamp_min(self.eps)
        total = losses.log().mean().exp()
        return total / (len(losses) * losses)
