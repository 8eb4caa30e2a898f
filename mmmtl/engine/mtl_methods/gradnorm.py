# Copyright (c) mmmtl contributors. All rights reserved.
"""GradNorm (Chen et al., ICML 2018)."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import GradientBasedMethod


@MTL_METHODS.register_module(name='GradNorm')
class GradNorm(GradientBasedMethod):
    """Gradient normalisation (`arXiv:1711.02257
    <https://arxiv.org/abs/1711.02257>`_).

    Learnt loss weights ``w`` (sum ``T``): the whole network, task-specific
    parameters included, follows ``grad sum_t w_t L_t``. After each step
    the weights move to equalise the weighted gradient norms
    ``G_t = w_t |g_t|`` measured on the shared part ``W``, towards
    ``mean(G) r_t^alpha`` with ``r_t`` the task's relative inverse training
    rate ``(L_t / L_t(0)) / mean_s(L_s / L_s(0))``: one gradient step of
    ``sum_t |G_t - target_t|`` (targets held constant, as in the paper),
    then a renormalisation to ``sum_t w_t = T``.

    The paper measures ``|g_t|`` on the *last shared layer*: set the
    wrapper's ``shared_modules`` to that layer (e.g.
    ``['backbone.layer4']``) in ``mode='parameter'``. The norms come from
    the diagonal of the Gram matrix, so they are global under distributed
    training. Weights and initial losses are checkpointed.

    Args:
        alpha (float): Restoring-force strength. Default: 1.5.
        lr (float): Step size of the weights. Default: 0.025.
        min_weight (float): Floor of every weight. Default: 1e-3.
    """

    weights_task_specific = True

    def __init__(self, alpha: float = 1.5, lr: float = 0.025,
                 min_weight: float = 1e-3) -> None:
        super().__init__()
        if lr <= 0:
            raise ValueError(f'GradNorm.lr must be > 0, got {lr}')
        self.alpha = float(alpha)
        self.lr = float(lr)
        self.min_weight = float(min_weight)
        self.loss_weights: Optional[Tensor] = None
        self.initial_losses: Optional[Tensor] = None

    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """Current weights; then one GradNorm update of them."""
        num = len(gram)
        if self.loss_weights is None:
            self.loss_weights = torch.ones(num, dtype=torch.float64)
        losses = losses.detach().double().cpu()
        if self.initial_losses is None:
            self.initial_losses = losses.clone()
        current = self.loss_weights.clone()
        norms = gram.detach().double().cpu().diagonal().clamp_min(0).sqrt()
        weighted = current * norms
        ratios = losses / self.initial_losses.clamp_min(1e-12)
        rates = ratios / ratios.mean().clamp_min(1e-12)
        target = weighted.mean() * rates.pow(self.alpha)
        grad = torch.sign(weighted - target) * norms
        updated = (current - self.lr * grad).clamp_min(self.min_weight)
        self.loss_weights = num * updated / updated.sum()
        return current

    def state_dict(self) -> Dict:
        """Tasks, weights and initial losses."""
        return dict(super().state_dict(),
                    loss_weights=self.loss_weights,
                    initial_losses=self.initial_losses)

    def load_state_dict(self, state: Dict) -> None:
        """Restore weights and initial losses."""
        super().load_state_dict(state)
        self.loss_weights = state.get('loss_weights')
        self.initial_losses = state.get('initial_losses')
