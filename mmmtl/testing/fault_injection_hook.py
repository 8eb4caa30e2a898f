# Copyright (c) mmmtl contributors. All rights reserved.
"""Deliberate failures for robustness tests (test-only, never in real
configs)."""
import math
import os
import signal
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmmtl.utils.distributed import unwrap_model


@HOOKS.register_module()
class FaultInjectionHook(Hook):
    """Kill the process or corrupt a loss at chosen iterations.

    Used by the test suite to check that the safeguards work end to end:
    a SIGKILL right after a checkpoint was written (the resumed run must
    match an uninterrupted one), or a NaN loss term (the
    :class:`~mmmtl.engine.hooks.NonFiniteLossHook` must react). It runs
    with the lowest priority, i.e. after :class:`SafeCheckpointHook` has
    written the iteration's checkpoint. Registered by importing
    :mod:`mmmtl.testing` (not by ``import mmmtl``).

    Args:
        kill_at_iter (int, optional): 1-based iteration after whose hooks
            (checkpoint included) the process sends itself ``kill_signal``.
        kill_signal (str): Signal name, ``'SIGKILL'`` by default (no
            clean-up of any kind happens).
        kill_rank (int, optional): Only this rank is killed (all by default).
        nonfinite_at_iters (Sequence[int]): 1-based iterations at which the
            loss term ``nonfinite_key`` is multiplied by NaN.
        nonfinite_key (str, optional): Loss key to corrupt; the first key
            containing ``'loss'`` by default.
    """
    priority = 'LOWEST'

    def __init__(self,
                 kill_at_iter: Optional[int] = None,
                 kill_signal: str = 'SIGKILL',
                 kill_rank: Optional[int] = None,
                 nonfinite_at_iters: Sequence[int] = (),
                 nonfinite_key: Optional[str] = None):
        if not hasattr(signal, kill_signal):
            raise ValueError(f'FaultInjectionHook.kill_signal: unknown '
                             f'signal {kill_signal!r}')
        self.kill_at_iter = kill_at_iter
        self.kill_signal = getattr(signal, kill_signal)
        self.kill_rank = kill_rank
        self.nonfinite_at_iters = set(nonfinite_at_iters)
        self.nonfinite_key = nonfinite_key
        self._iter = -1

    def before_train(self, runner) -> None:
        """Wrap the model's ``parse_losses`` to corrupt chosen steps."""
        if not self.nonfinite_at_iters:
            return
        model = unwrap_model(runner.model)
        parse_losses = model.parse_losses

        def corrupting_parse_losses(losses: dict):
            if self._iter + 1 in self.nonfinite_at_iters:
                key = self.nonfinite_key or next(
                    k for k in losses if 'loss' in k)
                if key not in losses:
                    raise KeyError(f'FaultInjectionHook.nonfinite_key '
                                   f'{key!r} is not a loss key: '
                                   f'{sorted(losses)}')
                losses = dict(losses)
                losses[key] = losses[key] * math.nan
            return parse_losses(losses)

        model.parse_losses = corrupting_parse_losses

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Remember the iteration for the loss wrapper."""
        self._iter = runner.iter

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Kill the process after the chosen iteration."""
        if self.kill_at_iter is None or runner.iter + 1 != self.kill_at_iter:
            return
        if self.kill_rank is not None and runner.rank != self.kill_rank:
            return
        os.kill(os.getpid(), self.kill_signal)
