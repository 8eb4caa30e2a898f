# Copyright (c) mmmtl contributors. All rights reserved.
"""Base classes of the multi-task optimisation methods."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor


class BaseMTLMethod(metaclass=ABCMeta):
    """A multi-task optimisation method, run by
    :class:`~mmmtl.engine.optim_wrappers.MultiTaskOptimWrapper`.

    Two families share this interface:

    * **loss-based** (:class:`LossBasedMethod`): one backward pass of a
      scalar the method builds from the per-task losses
      (:meth:`LossBasedMethod.combine`);
    * **gradient-based** (:class:`GradientBasedMethod`): the wrapper computes
      one gradient per task (of the shared parameters or of the shared
      features) and the method turns their Gram matrix into one weight per
      task (:meth:`GradientBasedMethod.weights`); the shared part receives
      ``sum_t w_t g_t``;
    * **gradient-matrix** (:class:`GradientMatrixMethod`): like the
      gradient-based family, but the method needs the per-task gradient
      vectors themselves (DB-MTL's moving average of each task's gradient)
      and returns the shared part's update (parameter mode only).

    A method holds only small state (a few floats per task); everything it
    needs to continue exactly after a resume is in :meth:`state_dict`, which
    the wrapper stores with the optimizer state in checkpoints. Subclasses
    that keep more state extend :meth:`state_dict` / :meth:`load_state_dict`.
    """

    #: The method needs per-task gradients (gradient-based family).
    needs_task_grads: bool = False
    #: Task-specific parameters receive ``sum_t w_t grad L_t`` (GradNorm's
    #: loss weighting) instead of the ordinary ``sum_t grad L_t``.
    weights_task_specific: bool = False
    #: The method needs the (T, N) per-task gradient matrix itself, not only
    #: its Gram matrix (:class:`GradientMatrixMethod`).
    needs_gradient_matrix: bool = False
    #: :meth:`after_step` needs the losses of the same batch after the
    #: optimizer step (FAMO), which costs one extra forward pass.
    needs_losses_after_step: bool = False

    def __init__(self) -> None:
        self.tasks: Optional[List[str]] = None
        self.last_weights: Optional[Tensor] = None

    @property
    def num_tasks(self) -> int:
        """Number of tasks (after :meth:`setup`)."""
        if self.tasks is None:
            raise RuntimeError(f'{type(self).__name__} is used before '
                               'setup(tasks) was called')
        return len(self.tasks)

    def setup(self, tasks: Sequence[str]) -> None:
        """Fix the task order (the order of every per-task tensor).

        Args:
            tasks (Sequence[str]): Task names.

        Raises:
            ValueError: A restored state was saved for other tasks.
        """
        tasks = list(tasks)
        if self.tasks is not None and self.tasks != tasks:
            raise ValueError(f'{type(self).__name__}: the method state is '
                             f'for tasks {self.tasks}, the model has {tasks}')
        if len(tasks) < 1:
            raise ValueError(f'{type(self).__name__} needs at least one task')
        self.tasks = tasks

    def task_specific_weights(self, weights: Tensor,
                              losses: Tensor) -> Tensor:
        """Coefficients of the task losses' gradients of the task-specific
        parameters, when :attr:`weights_task_specific` is set.

        Args:
            weights (Tensor): (T,) float64 weights the method returned.
            losses (Tensor): (T,) float64 detached losses (global means).

        Returns:
            Tensor: (T,) float64 coefficients (default: ``weights``).
        """
        return weights

    def after_step(self, losses_before: Tensor, losses_after: Tensor) -> None:
        """Update the method's state after the optimizer step (FAMO).

        Args:
            losses_before (Tensor): (T,) losses before the step.
            losses_after (Tensor): (T,) losses of the same batch after it.
        """

    def state_dict(self) -> Dict:
        """State to checkpoint (the task order by default)."""
        return dict(tasks=self.tasks)

    def load_state_dict(self, state: Dict) -> None:
        """Restore :meth:`state_dict`."""
        self.tasks = list(state['tasks']) if state.get('tasks') else None


class LossBasedMethod(BaseMTLMethod):
    """A method that optimises a weighted sum of the task losses.

    The optimised objective may be non-linear in the losses (GLS's
    geometric mean, FAMO's weighted log losses); the wrapper back-propagates
    ``sum_t w_t L_t`` with ``w_t`` the objective's derivative with respect
    to ``L_t`` at the *global* (all-rank mean) losses. That is the
    objective's exact gradient, and under distributed training it equals
    the gradient of the objective of the whole global batch (a rank's own
    losses would give each rank other weights).
    """

    @abstractmethod
    def loss_weights(self, losses: Tensor) -> Tensor:
        """Weights of the task losses for this iteration.

        Args:
            losses (Tensor): (T,) float64 detached losses (global means).

        Returns:
            Tensor: (T,) float64 ``d objective / d L_t``.
        """


class GradientBasedMethod(BaseMTLMethod):
    """A method that weights per-task gradients from their Gram matrix.

    Every gradient-based method implemented here (PCGrad, CAGrad, Nash-MTL,
    IMTL-G, Aligned-MTL, MGDA, UPGrad, GradNorm, GradVac) returns an
    aggregate of the form ``sum_t w_t g_t`` whose weights depend on the
    gradients only through their inner products. That is what lets the
    wrapper all-reduce a ``T x T`` matrix instead of ``T`` gradients under
    distributed training in the representation mode.
    """

    needs_task_grads = True

    @abstractmethod
    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """Per-task weights of the aggregated gradient.

        Args:
            gram (Tensor): (T, T) float64 Gram matrix ``G G^T`` of the
                per-task gradients ``G`` (T, N), identical on every rank.
            losses (Tensor): (T,) detached per-task losses (global means).

        Returns:
            Tensor: (T,) float64 weights ``w``; the update is ``w^T G``.
        """


class GradientMatrixMethod(BaseMTLMethod):
    """A gradient-based method that needs the per-task gradient vectors.

    Its update of the shared part is not a function of the Gram matrix
    alone (DB-MTL keeps a moving average of every task's gradient vector),
    so it runs in the wrapper's parameter mode only: there the ``(T, P)``
    matrix of the shared parameters' gradients is the same vector space at
    every step (the representation's gradients are not: they belong to the
    images of one batch) and, under distributed training, is averaged over
    the ranks before the method sees it, so its state stays identical on
    every rank.
    """

    needs_task_grads = True
    needs_gradient_matrix = True

    @abstractmethod
    def aggregate(self, matrix: Tensor, losses: Tensor
                  ) -> Tuple[Tensor, Tensor]:
        """The shared part's update from the per-task gradients.

        Args:
            matrix (Tensor): (T, P) float32 per-task gradients of the shared
                parameters (unscaled, global means), on the model's device.
            losses (Tensor): (T,) float64 detached losses (global means).

        Returns:
            tuple: ``(direction, weights)``: the (P,) update written to the
            shared parameters' ``.grad`` and (T,) float64 per-task weights
            (logged as ``mtl_weight/<task>``).
        """


def as_float64(values: Sequence[float]) -> Tensor:
    """A (T,) float64 CPU tensor."""
    return torch.as_tensor(values, dtype=torch.float64)
