# Copyright (c) mmmtl contributors. All rights reserved.
"""GradVac: gradient vaccine (Wang et al., ICLR 2021)."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import GradientBasedMethod


def vaccine_coefficient(norm_i: Tensor, norm_j: Tensor, cos: Tensor,
                        target: Tensor, eps: float) -> Tensor:
    """Multiple of ``g_j`` that raises ``cos(g_i, g_j)`` to ``target``.

    The paper's Eq. (the closed form of GradVac)::

        |g_i| (phi_hat sqrt(1 - phi^2) - phi sqrt(1 - phi_hat^2))
        / (|g_j| sqrt(1 - phi_hat^2))

    Args:
        norm_i (Tensor): () norm of the (modified) ``g_i``.
        norm_j (Tensor): () norm of ``g_j``.
        cos (Tensor): () their cosine ``phi``.
        target (Tensor): () the target cosine ``phi_hat``.
        eps (float): Added to the denominator.

    Returns:
        Tensor: () the coefficient.
    """
    sin = (1.0 - cos * cos).clamp_min(0.0).sqrt()
    target_sin = (1.0 - target * target).clamp_min(0.0).sqrt()
    return norm_i * (target * sin - cos * target_sin) / (
        norm_j * target_sin + eps)


@MTL_METHODS.register_module(name='GradVac')
class GradVac(GradientBasedMethod):
    """Gradient vaccine (`arXiv:2010.05874
    <https://arxiv.org/abs/2010.05874>`_, Algorithm 1).

    Every ordered task pair ``(i, j)`` has a target cosine ``phi_hat_ij``,
    an exponential moving average of the observed cosines (zero at the
    start). For every task ``i``, the other tasks ``j`` are visited in a
    random order; when the cosine ``phi`` of the (already modified) ``g_i``
    with ``g_j`` is below ``phi_hat_ij``, ``g_i`` gets the multiple of
    ``g_j`` that raises the cosine to ``phi_hat_ij``
    (:func:`vaccine_coefficient`); then
    ``phi_hat_ij <- (1 - beta) phi_hat_ij + beta phi``. The update is the
    sum of the modified gradients. With ``beta = 0`` the targets stay zero
    and the correction is PCGrad's projection; positive targets learnt over
    training also align gradients that do not conflict but are less
    similar than usual.

    Every modified gradient is a linear combination ``c_i^T G`` of the task
    gradients, so norms and cosines come from the Gram matrix
    (``|c_i^T G|^2 = c_i^T M c_i``, ``c_i^T G . g_j = (c_i^T M)_j``): the
    method works in both wrapper modes and is exact under distributed
    training. The gradients are treated as one vector (the "whole model"
    granularity, LibMTL's and TorchJD's default); the paper also applies
    it per layer or per parameter matrix, which this class does not offer.

    Own code, not TorchJD's ``GradVacWeighting`` (torchjd 0.18): that one
    keeps ``phi_hat`` in a private attribute that is reset unless another
    private one matches, so a checkpoint could not restore it without
    depending on TorchJD internals. The random task orders are drawn in a
    forked RNG seeded by ``seed`` + step: identical on every rank, the
    global RNG untouched, resumed exactly with ``phi_hat``.

    Args:
        beta (float): EMA rate of the targets, in [0, 1]. Default: 0.01
            (the paper's; LibMTL and TorchJD default to 0.5).
        eps (float): Added to the denominators. Default: 1e-8.
        seed (int): Seed of the random task orders. Default: 0.
    """

    def __init__(self, beta: float = 0.01, eps: float = 1e-8,
                 seed: int = 0) -> None:
        super().__init__()
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f'GradVac.beta must be in [0, 1], got {beta}')
        if eps < 0:
            raise ValueError(f'GradVac.eps must be >= 0, got {eps}')
        self.beta = float(beta)
        self.eps = float(eps)
        self.seed = int(seed)
        self.steps = 0
        self.targets: Optional[Tensor] = None

    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """Sum of the coefficient rows ``c_i``; updates the targets."""
        gram = gram.detach().double().cpu()
        num = len(gram)
        if self.targets is None:
            self.targets = torch.zeros(num, num, dtype=torch.float64)
        coeffs = torch.eye(num, dtype=torch.float64)
        norms = gram.diagonal().clamp_min(0.0).sqrt()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + self.steps)
            for i in range(num):
                others = [j for j in range(num) if j != i]
                order = torch.randperm(len(others)).tolist()
                for j in (others[k] for k in order):
                    dots = coeffs[i] @ gram  # (T,) g_i' . g_k
                    norm_i = (dots @ coeffs[i]).clamp_min(0.0).sqrt()
                    cos = dots[j] / (norm_i * norms[j] + self.eps)
                    target = self.targets[i, j]
                    if cos < target:
                        coeffs[i, j] += vaccine_coefficient(
                            norm_i, norms[j], cos, target, self.eps)
                    self.targets[i, j] = ((1.0 - self.beta) * target +
                                          self.beta * cos)
        self.steps += 1
        return coeffs.sum(dim=0)

    def state_dict(self) -> Dict:
        """Tasks, targets and the step count (the RNG stream position)."""
        return dict(super().state_dict(), steps=self.steps,
                    targets=None if self.targets is None else
                    self.targets.clone())

    def load_state_dict(self, state: Dict) -> None:
        """Restore the targets and the step count."""
        super().load_state_dict(state)
        self.steps = int(state.get('steps', 0))
        targets = state.get('targets')
        self.targets = None if targets is None else targets.double().clone()
