# Copyright (c) mmmtl contributors. All rights reserved.
"""FAMO: fast adaptive multitask optimisation (Liu et al., NeurIPS 2023)."""
from typing import Dict

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import LossBasedMethod


@MTL_METHODS.register_module(name='FAMO')
class FAMO(LossBasedMethod):
    """FAMO (`arXiv:2306.03792 <https://arxiv.org/abs/2306.03792>`_).

    Task logits ``xi`` (T,) define ``z = softmax(xi)``. Each iteration
    optimises (Algorithm 1)::

        D_t = L_t - l_t* + eps,   c = (sum_t z_t / D_t)  (no gradient)
        loss = sum_t (z_t / c) log D_t

    After the optimizer step the wrapper recomputes the losses of the same
    batch (one extra forward pass without gradients) and :meth:`after_step`
    moves the logits along ``delta_t = log D_t(before) - log D_t(after)``
    (the per-task decrease of the log loss): the gradient
    ``J_softmax(xi)^T delta`` is handed to an Adam optimiser of the logits
    with weight decay ``gamma`` (the regularisation of the paper's Eq. 9).
    Tasks whose log loss fell more lose weight.

    Under distributed training the wrapper passes globally averaged losses,
    so every rank updates the same logits. The logits and the Adam state are
    checkpointed (exact resume).

    Args:
        lr (float): Learning rate of the logits (the paper's ``beta``).
            Default: 0.025.
        gamma (float): Weight decay of the logits. Default: 0.001.
        min_losses (float): ``l_t*``, a lower bound of every loss.
            Default: 0.
        eps (float): Added to ``L_t - l_t*``. Default: 1e-8.
    """

    needs_losses_after_step = True

    def __init__(self,
                 lr: float = 0.025,
                 gamma: float = 0.001,
                 min_losses: float = 0.0,
                 eps: float = 1e-8) -> None:
        super().__init__()
        if lr <= 0:
            raise ValueError(f'FAMO.lr must be > 0, got {lr}')
        self.lr = float(lr)
        self.gamma = float(gamma)
        self.min_losses = float(min_losses)
        self.eps = float(eps)
        self.logits: Tensor = None
        self._optimizer = None

    def setup(self, tasks) -> None:
        """Create the logits (zeros: equal weights) once."""
        super().setup(tasks)
        if self.logits is None:
            self.logits = torch.zeros(len(self.tasks), dtype=torch.float64,
                                      requires_grad=True)
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam([self.logits], lr=self.lr,
                                               weight_decay=self.gamma)

    def _shifted(self, losses: Tensor) -> Tensor:
        return losses - self.min_losses + self.eps

    def loss_weights(self, losses: Tensor) -> Tensor:
        """``z_t / (c D_t)``, the derivative of ``sum_t (z_t / c) log D_t``
        (see the class docstring)."""
        z = torch.softmax(self.logits.detach(), dim=0)
        shifted = self._shifted(losses.double())
        c = (z / shifted).sum()
        return z / (c * shifted)

    def after_step(self, losses_before: Tensor, losses_after: Tensor) -> None:
        """One Adam step of the logits along the log-loss decrease."""
        delta = (self._shifted(losses_before.double()).log() -
                 self._shifted(losses_after.double()).log())
        with torch.enable_grad():
            z = torch.softmax(self.logits, dim=0)
            (grad, ) = torch.autograd.grad(z, self.logits,
                                           grad_outputs=delta)
        self._optimizer.zero_grad()
        self.logits.grad = grad
        self._optimizer.step()

    def state_dict(self) -> Dict:
        """Tasks, logits and the logits' Adam state."""
        return dict(super().state_dict(),
                    logits=self.logits.detach().clone()
                    if self.logits is not None else None,
                    optimizer=self._optimizer.state_dict()
                    if self._optimizer is not None else None)

    def load_state_dict(self, state: Dict) -> None:
        """Restore logits and Adam state."""
        super().load_state_dict(state)
        if state.get('logits') is None:
            return
        self.logits = state['logits'].detach().clone().double()
        self.logits.requires_grad_(True)
        self._optimizer = torch.optim.Adam([self.logits], lr=self.lr,
                                           weight_decay=self.gamma)
        if state.get('optimizer') is not None:
            self._optimizer.load_state_dict(state['optimizer'])
