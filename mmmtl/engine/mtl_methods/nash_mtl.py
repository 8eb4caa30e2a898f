# Copyright (c) mmmtl contributors. All rights reserved.
"""Nash-MTL (Navon et al., ICML 2022), solved by Newton's method."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import GradientBasedMethod


def nash_bargaining_weights(gram: Tensor,
                            init: Optional[Tensor] = None,
                            max_iters: int = 100,
                            tol: float = 1e-20,
                            reg: float = 1e-8) -> Tensor:
    """The positive solution ``alpha`` of ``M alpha = 1 / alpha``.

    That is the Nash bargaining solution of Theorem 5.1 of the paper
    (``G^T G alpha = 1/alpha`` elementwise). It is the unique minimiser of
    the strictly convex ``phi(a) = a^T M a / 2 - sum_t log a_t`` (its
    gradient is ``M a - 1/a``), found with damped Newton steps that keep
    ``a > 0``; ``reg`` is added to the diagonal of ``M`` so that
    linearly dependent gradients still give a bounded problem.

    Args:
        gram (Tensor): (T, T) float64 ``M``.
        init (Tensor, optional): (T,) positive start (the previous step's
            solution); default ``1 / sqrt(diag M)``.
        max_iters (int): Newton iterations.
        tol (float): Stop when the squared Newton decrement (about twice
            the distance to the optimal value) is below it.
        reg (float): Diagonal regularisation, relative to ``trace(M)/T``.

    Returns:
        Tensor: (T,) float64 positive ``alpha``.
    """
    gram = gram.double()
    num = len(gram)
    scale = float(gram.diagonal().mean().clamp_min(1e-30))
    gram = gram + reg * scale * torch.eye(num, dtype=torch.float64)
    if init is None or len(init) != num or not bool((init > 0).all()):
        alpha = gram.diagonal().rsqrt()
    else:
        alpha = init.double().clone()

    def phi(a):
        return 0.5 * a @ gram @ a - a.log().sum()

    for _ in range(max_iters):
        grad = gram @ alpha - 1.0 / alpha
        hessian = gram + torch.diag(alpha.pow(-2))
        step = -torch.linalg.solve(hessian, grad)
        decrement = float(-(grad @ step))
        if decrement < tol:
            break
        t = 1.0
        negative = step < 0
        if bool(negative.any()):
            t = min(1.0, 0.99 * float((-alpha[negative] /
                                        step[negative]).min()))
        current = phi(alpha)
        while phi(alpha + t * step) > current - 0.25 * t * decrement and \
                t > 1e-12:
            t *= 0.5
        alpha = alpha + t * step
    return alpha


@MTL_METHODS.register_module(name='NashMTL')
class NashMTL(GradientBasedMethod):
    """Multi-task learning as a bargaining game (`arXiv:2202.01017
    <https://arxiv.org/abs/2202.01017>`_).

    The update ``d = sum_t alpha_t g_t`` solves ``M alpha = 1/alpha`` with
    ``M`` the Gram matrix normalised by its Frobenius norm (as the authors'
    implementation does). The authors approximate the solution with a
    sequence of convex programs in CVXPY (20 iterations warm-started at the
    previous solution); here Newton's method solves the same equation to
    machine precision (own code: TorchJD's NashMTL needs CVXPY and ECOS and
    has no Gramian form), warm-started at the previous solution, which is
    checkpointed. ``update_every > 1`` reuses the weights for that many
    steps, the authors' cheaper variant (then the per-task gradients are
    still computed at every step; see the docs for the cost).

    Args:
        update_every (int): Steps between two solves. Default: 1.
        max_iters (int): Newton iterations per solve. Default: 100.
    """

    def __init__(self, update_every: int = 1, max_iters: int = 100) -> None:
        super().__init__()
        if int(update_every) != update_every or update_every < 1:
            raise ValueError(f'NashMTL.update_every must be an integer '
                             f'>= 1, got {update_every!r}')
        self.update_every = int(update_every)
        self.max_iters = int(max_iters)
        self.prev_alpha: Optional[Tensor] = None
        self.steps = 0

    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """``alpha`` (recomputed every ``update_every`` steps)."""
        if self.prev_alpha is None or self.steps % self.update_every == 0:
            gram = gram.detach().double().cpu()
            norm = float(torch.linalg.matrix_norm(gram))
            if norm > 0:
                self.prev_alpha = nash_bargaining_weights(
                    gram / norm, self.prev_alpha, max_iters=self.max_iters)
            else:
                self.prev_alpha = torch.ones(len(gram), dtype=torch.float64)
        self.steps += 1
        return self.prev_alpha.clone()

    def state_dict(self) -> Dict:
        """Tasks, previous solution and step count."""
        return dict(super().state_dict(), steps=self.steps,
                    prev_alpha=None if self.prev_alpha is None else
                    self.prev_alpha.clone())

    def load_state_dict(self, state: Dict) -> None:
        """Restore the previous solution."""
        super().load_state_dict(state)
        self.steps = int(state.get('steps', 0))
        prev = state.get('prev_alpha')
        self.prev_alpha = None if prev is None else prev.double().clone()
