# Copyright (c) mmmtl contributors. All rights reserved.
"""CAGrad (Liu et al., NeurIPS 2021), solved with SciPy."""
import numpy as np
import torch
from scipy.optimize import minimize
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import GradientBasedMethod


def cagrad_simplex_weights(gram: np.ndarray, alpha: float) -> np.ndarray:
    """``w = argmin_{w in simplex} w^T M 1/T + alpha |g0| sqrt(w^T M w)``.

    The dual of CAGrad's inner problem (Eq. 4 of the paper), with
    ``|g0| = sqrt(mean(M))`` the norm of the average gradient; solved with
    SLSQP from the uniform start, as the authors' implementation does.

    Args:
        gram (np.ndarray): (T, T) Gram matrix ``M``.
        alpha (float): ``c`` of the paper (the radius factor).

    Returns:
        np.ndarray: (T,) weights on the simplex.
    """
    num = len(gram)
    start = np.full(num, 1.0 / num)
    radius = alpha * np.sqrt(gram.mean() + 1e-8) + 1e-8

    def objective(w):
        return float(w @ gram @ start + radius * np.sqrt(w @ gram @ w + 1e-8))

    result = minimize(objective, start, bounds=[(0.0, 1.0)] * num,
                      constraints=({'type': 'eq',
                                    'fun': lambda w: 1.0 - w.sum()}, ))
    return result.x


@MTL_METHODS.register_module(name='CAGrad')
class CAGrad(GradientBasedMethod):
    """Conflict-averse gradient descent (`arXiv:2110.14048
    <https://arxiv.org/abs/2110.14048>`_).

    The update maximises the worst task improvement within a ball of radius
    ``c |g0|`` around the average gradient ``g0``::

        w* = argmin_{w in simplex} g_w . g0 + c |g0| |g_w|,  g_w = w^T G
        d  = (g0 + c |g0| / |g_w| g_w) / (1 + c^2)

    i.e. ``d = sum_t (1/T + lambda w*_t) g_t / (1 + c^2)`` with
    ``lambda = c |g0| / |g_w|``. The ``1 + c^2`` rescaling is the authors'
    default (``rescale=1``). Our own code: TorchJD's CAGrad needs CVXPY and
    Clarabel, heavy for a ``T``-dimensional problem that SciPy (already a
    dependency) solves as the authors did.

    Args:
        c (float): Radius factor ``c`` (0: equal weighting with mean).
            Default: 0.4 (the paper's NYUv2 setting).
        rescale (bool): Divide by ``1 + c^2``. Default: True.
    """

    def __init__(self, c: float = 0.4, rescale: bool = True) -> None:
        super().__init__()
        if c < 0:
            raise ValueError(f'CAGrad.c must be >= 0, got {c}')
        self.c = float(c)
        self.rescale = bool(rescale)

    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """CAGrad's weights on the task gradients."""
        gram_np = gram.detach().double().cpu().numpy()
        num = len(gram_np)
        w = cagrad_simplex_weights(gram_np, self.c)
        gw_norm = np.sqrt(max(float(w @ gram_np @ w), 0.0))
        lam = self.c * np.sqrt(gram_np.mean() + 1e-8) / (gw_norm + 1e-8)
        weights = np.full(num, 1.0 / num) + lam * w
        if self.rescale:
            weights = weights / (1.0 + self.c**2)
        return torch.as_tensor(weights, dtype=torch.float64)
