# Copyright (c) mmmtl contributors. All rights reserved.
"""Base class of the hooks that set a multi-task model's task weights."""
import math
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmmtl.utils.distributed import unwrap_model
from .nonfinite_loss_hook import step_was_skipped

DATA_BATCH = Optional[dict]

#: Key of the hooks' states in ``checkpoint['meta']``.
CKPT_META_KEY = 'loss_weighting'


def _to_float(value) -> float:
    return float(value.detach().float().mean()) if isinstance(
        value, torch.Tensor) else float(value)


class BaseLossWeightingHook(Hook, metaclass=ABCMeta):
    """Shared mechanics of loss-weighting hooks.

    The model (e.g. :class:`~mmmtl.models.MultiTaskEncoderDecoder`) multiplies
    each task's losses by ``model.task_weights[task]``; a hook of this family

    1. reads each task's *unweighted* final-prediction loss from the logged
       outputs of every training iteration (key ``'<task>.unweighted'``);
    2. sums them over a *window* — an epoch (``by_epoch=True``) or
       ``interval`` iterations — with the sums and counts all-reduced across
       ranks every iteration (a ``2T``-float all-reduce), so every rank holds
       the same global window means (and a checkpoint holds the global
       partial window);
    3. at the end of each window appends the window means to ``history``,
       calls :meth:`compute_weights` and writes the result to
       ``model.task_weights`` (unwrapping DDP), identically on every rank;
    4. logs a line with the new weights, and the window means
       (``task_loss/<task>``) to the visualizer backends. The weights
       themselves are logged by the segmentor, which logs the weight it
       applies every iteration as ``weight.<task>`` with or without a hook
       (plot with ``tools/analysis_tools/analyze_logs.py WORK_DIR --keys
       'weight.*'``): one key per task weight;
    5. stores its state (history, partial window, weights) in
       ``checkpoint['meta']['loss_weighting'][<class name>]`` and restores
       it on resume, so a resumed run continues exactly.

    Subclasses implement :meth:`compute_weights`.

    Args:
        by_epoch (bool): Windows are epochs (``True``) or ``interval``
            iterations (``False``, for iteration-based schedules).
        interval (int): Epochs (``by_epoch``) or iterations per window.
        tasks (Sequence[str], optional): Tasks to weight; default: the
            model's tasks.
    """

    priority = 'NORMAL'

    def __init__(self,
                 by_epoch: bool = True,
                 interval: int = 1,
                 tasks: Optional[Sequence[str]] = None):
        if int(interval) != interval or interval < 1:
            raise ValueError(f'{type(self).__name__}.interval must be an '
                             f'integer >= 1, got {interval!r}')
        self.by_epoch = by_epoch
        self.interval = int(interval)
        self.tasks: Optional[List[str]] = list(tasks) if tasks else None
        self.history: List[List[float]] = []
        self.weights: Optional[Dict[str, float]] = None
        self.num_updates = 0
        self._sums: Optional[torch.Tensor] = None
        self._counts: Optional[torch.Tensor] = None

    # ------------------------------------------------------------------ #
    # To implement
    # ------------------------------------------------------------------ #
    @abstractmethod
    def compute_weights(self, history: List[List[float]]) -> List[float]:
        """Task weights (in ``self.tasks`` order) from the window means.

        Args:
            history (list[list[float]]): One list of per-task mean unweighted
                losses per finished window, oldest first (may be empty:
                the weights before any window ended).

        Returns:
            list[float]: The weights to apply from now on.
        """

    # ------------------------------------------------------------------ #
    # Model access
    # ------------------------------------------------------------------ #
    def _model(self, runner):
        model = unwrap_model(runner.model)
        if not isinstance(getattr(model, 'task_weights', None), dict):
            raise TypeError(
                f'{type(self).__name__} needs a model with a `task_weights` '
                f'dict (e.g. MultiTaskEncoderDecoder), got '
                f'{type(model).__name__}')
        return model

    def _resolve_tasks(self, runner) -> None:
        model = self._model(runner)
        model_tasks = list(model.task_weights)
        if self.tasks is None:
            self.tasks = model_tasks
        unknown = set(self.tasks) - set(model_tasks)
        if unknown:
            raise ValueError(f'{type(self).__name__}.tasks names '
                             f'{sorted(unknown)} that the model does not '
                             f'predict ({model_tasks})')
        if self._sums is None:
            self._reset_window()

    def _reset_window(self) -> None:
        n = len(self.tasks)
        self._sums = torch.zeros(n, dtype=torch.float64)
        self._counts = torch.zeros(n, dtype=torch.float64)

    def apply_weights(self, runner) -> None:
        """Write ``self.weights`` to the model (no-op when unset)."""
        if self.weights is None:
            return
        task_weights = self._model(runner).task_weights
        for task, weight in self.weights.items():
            task_weights[task] = float(weight)

    # ------------------------------------------------------------------ #
    # Hook points
    # ------------------------------------------------------------------ #
    def before_train(self, runner) -> None:
        """Validate the tasks and apply the initial (or resumed) weights."""
        self._resolve_tasks(runner)
        if self.weights is None:
            self.weights = dict(zip(self.tasks,
                                    self.compute_weights(self.history)))
            self._log(runner, runner.iter, initial=True)
        self.apply_weights(runner)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Accumulate the iteration's unweighted task losses (all ranks).

        A step skipped by :class:`~mmmtl.engine.hooks.NonFiniteLossHook`
        (any rank had a non-finite loss; the decision is the same on every
        rank) adds nothing to the window.
        """
        if self.tasks is None:
            self._resolve_tasks(runner)
        if not step_was_skipped(runner):
            self.accumulate(outputs or {})
        if not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self.end_window(runner, step=runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        """End the window at the end of every ``interval``-th epoch."""
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.end_window(runner, step=runner.iter)

    def accumulate(self, outputs: dict) -> None:
        """Add one iteration's losses to the window, summed over ranks.

        Args:
            outputs (dict): Logged outputs of the iteration; tasks without a
                ``'<task>.unweighted'`` key (absent from the batch) count
                nothing.
        """
        values = torch.zeros(2 * len(self.tasks), dtype=torch.float64)
        for i, task in enumerate(self.tasks):
            key = f'{task}.unweighted'
            if key in outputs:
                value = _to_float(outputs[key])
                if math.isfinite(value):
                    values[i] = value
                    values[len(self.tasks) + i] = 1.0
        all_reduce(values, op='sum')
        self._sums += values[:len(self.tasks)]
        self._counts += values[len(self.tasks):]

    def end_window(self, runner, step: int) -> None:
        """Push the window means, recompute, apply and log the weights.

        Args:
            runner (Runner): The runner.
            step (int): Iterations done (the logging step).
        """
        if self.tasks is None:
            self._resolve_tasks(runner)
        missing = [t for t, c in zip(self.tasks, self._counts.tolist())
                   if c == 0]
        if missing:
            runner.logger.warning(
                f'{type(self).__name__}: no `<task>.unweighted` loss was '
                f'logged in this window for {missing}; weights kept')
            self._reset_window()
            return
        means = (self._sums / self._counts).tolist()
        self.history.append(means)
        self.weights = dict(zip(self.tasks,
                                self.compute_weights(self.history)))
        self.num_updates += 1
        self._reset_window()
        self.apply_weights(runner)
        self._log(runner, step)

    # ------------------------------------------------------------------ #
    # Logging
    # ------------------------------------------------------------------ #
    def logged_weights(self, runner) -> Dict[str, float]:
        """The weights reported in the logs (the ones the model applies)."""
        return dict(self.weights)

    def _log(self, runner, step: int, initial: bool = False) -> None:
        weights = self.logged_weights(runner)
        # The weights are scalars `weight.<task>` of the segmentor already.
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is not None and self.history and not initial:
            visualizer.add_scalars(
                {f'task_loss/{t}': v
                 for t, v in zip(self.tasks, self.history[-1])},
                step=step)
        text = ', '.join(f'{t}={w:.4f}' for t, w in weights.items())
        what = 'initial weights' if initial else \
            f'update {self.num_updates} (iter {step})'
        runner.logger.info(f'{type(self).__name__} {what}: {text}')

    # ------------------------------------------------------------------ #
    # State (checkpoints)
    # ------------------------------------------------------------------ #
    def state_dict(self) -> dict:
        """Everything needed to continue exactly after a resume."""
        return dict(
            tasks=list(self.tasks) if self.tasks else None,
            history=[list(h) for h in self.history],
            weights=dict(self.weights) if self.weights is not None else None,
            num_updates=self.num_updates,
            sums=self._sums.tolist() if self._sums is not None else None,
            counts=self._counts.tolist() if self._counts is not None
            else None)

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (tasks must match)."""
        if self.tasks is not None and state['tasks'] is not None and \
                list(state['tasks']) != list(self.tasks):
            raise ValueError(f'{type(self).__name__}: checkpoint weights '
                             f'tasks {state["tasks"]}, this run weights '
                             f'{self.tasks}')
        self.tasks = list(state['tasks']) if state['tasks'] else self.tasks
        self.history = [list(h) for h in state['history']]
        self.weights = dict(state['weights']) if state['weights'] else None
        self.num_updates = int(state['num_updates'])
        if state['sums'] is not None:
            self._sums = torch.tensor(state['sums'], dtype=torch.float64)
            self._counts = torch.tensor(state['counts'], dtype=torch.float64)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the state in ``checkpoint['meta']``."""
        meta = checkpoint.setdefault('meta', {})
        meta.setdefault(CKPT_META_KEY, {})[type(self).__name__] = \
            self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the state (if the checkpoint has one) and the weights."""
        state = checkpoint.get('meta', {}).get(CKPT_META_KEY, {}).get(
            type(self).__name__)
        if state is None:
            return
        self.load_state_dict(state)
        if self.weights is not None:
            self.apply_weights(runner)
