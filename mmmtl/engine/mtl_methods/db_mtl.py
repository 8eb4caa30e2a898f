# Copyright (c) mmmtl contributors. All rights reserved.
"""DB-MTL: dual-balancing multi-task learning (Lin et al., 2023)."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import GradientMatrixMethod


@MTL_METHODS.register_module(name='DBMTL')
class DBMTL(GradientMatrixMethod):
    """Dual-balancing MTL (`arXiv:2308.12029
    <https://arxiv.org/abs/2308.12029>`_, Algorithm 1).

    * **Loss-scale balancing**: every task optimises ``log(L_t + eps)``;
      the task-specific parameters take ``grad sum_t log(L_t + eps)``, i.e.
      ``sum_t grad L_t / (L_t + eps)``.
    * **Gradient-magnitude balancing** of the shared parameters: a moving
      average of every task's log-loss gradient ``g_t / (L_t + eps)``::

          beta_k = beta / k^sigma                      (k = 1, 2, ...)
          h_t <- beta_k h_t + (1 - beta_k) g_t / (L_t + eps),  h_t = 0 at k=0
          d    = sum_t (max_s |h_s| / (|h_t| + eps)) h_t

      every averaged gradient scaled to the largest norm, then summed.

    ``h`` is a ``(T, P)`` state (P = shared parameters), so the method runs
    in the wrapper's parameter mode only (a clear error otherwise): the
    representation's gradients belong to the images of one batch and cannot
    be averaged over batches. Under distributed training the wrapper
    averages the per-task gradients over the ranks before this method sees
    them and the losses are global means, so ``h`` is identical on every
    rank; with a loss scaler the gradients arrive unscaled. ``h`` and ``k``
    are checkpointed (exact resume). The logged weight of a task
    (``mtl_weight/<task>``) is its scale ``max_s |h_s| / |h_t|``.

    Defaults are those of the authors' LibMTL (``DB_beta=0.9``,
    ``DB_beta_sigma=0``: a constant rate); the paper's ``beta_k`` schedule
    is ``sigma > 0``.

    Args:
        beta (float): Moving-average rate, in [0, 1). Default: 0.9.
        beta_sigma (float): Decay exponent ``sigma`` of the rate, >= 0.
            Default: 0.
        eps (float): Added to the losses and the norms. Default: 1e-8.
    """

    weights_task_specific = True

    def __init__(self, beta: float = 0.9, beta_sigma: float = 0.0,
                 eps: float = 1e-8) -> None:
        super().__init__()
        if not 0.0 <= beta < 1.0:
            raise ValueError(f'DBMTL.beta must be in [0, 1), got {beta}')
        if beta_sigma < 0:
            raise ValueError(f'DBMTL.beta_sigma must be >= 0, got '
                             f'{beta_sigma}')
        self.beta = float(beta)
        self.beta_sigma = float(beta_sigma)
        self.eps = float(eps)
        self.steps = 0
        self.grad_average: Optional[Tensor] = None

    def _log_factors(self, losses: Tensor) -> Tensor:
        """(T,) float64 ``1 / (L_t + eps)``: ``d log(L_t + eps) / d L_t``."""
        return 1.0 / (losses.detach().double().cpu() + self.eps)

    def aggregate(self, matrix: Tensor, losses: Tensor
                  ) -> Tuple[Tensor, Tensor]:
        """Update the averages with this step's log-loss gradients and
        return their magnitude-balanced sum and the scales."""
        log_grads = matrix.float() * self._log_factors(losses).to(
            matrix.device, torch.float32)[:, None]
        if self.grad_average is None or \
                self.grad_average.shape != log_grads.shape:
            if self.grad_average is not None:
                raise ValueError(
                    f'DBMTL: the restored gradient average has shape '
                    f'{tuple(self.grad_average.shape)}, the shared '
                    f'parameters give {tuple(log_grads.shape)}')
            self.grad_average = torch.zeros_like(log_grads)
        self.steps += 1
        rate = self.beta / self.steps**self.beta_sigma
        average = self.grad_average.to(log_grads)
        self.grad_average = rate * average + (1.0 - rate) * log_grads
        norms = self.grad_average.double().norm(dim=1)
        scales = norms.max() / (norms + self.eps)
        direction = scales.to(self.grad_average) @ self.grad_average
        return direction, scales.cpu()

    def task_specific_weights(self, weights: Tensor,
                              losses: Tensor) -> Tensor:
        """``1 / (L_t + eps)``: the gradient of the summed log losses."""
        return self._log_factors(losses)

    def state_dict(self) -> Dict:
        """Tasks, the gradient averages and the step count."""
        return dict(super().state_dict(), steps=self.steps,
                    grad_average=None if self.grad_average is None else
                    self.grad_average.clone())

    def load_state_dict(self, state: Dict) -> None:
        """Restore the gradient averages and the step count."""
        super().load_state_dict(state)
        self.steps = int(state.get('steps', 0))
        average = state.get('grad_average')
        self.grad_average = None if average is None else average.clone()
