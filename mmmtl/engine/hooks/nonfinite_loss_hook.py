# Copyright (c) mmmtl contributors. All rights reserved.
"""Stop (or skip the step) when the total training loss is not finite."""
import math
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.registry import HOOKS

from mmmtl.models.segmentors.multitask_encoder_decoder import unwrap_model


#: Message hub key (runtime info, resumed) of the number of skipped steps.
SKIPS_KEY = 'nonfinite_skips'


class NonFiniteLossError(FloatingPointError):
    """The total training loss became NaN or infinite."""


def _is_finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.detach()).all())
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean())
    return float(value)


def _all_ranks_finite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is finite on every rank (one tiny all-reduce)."""
    flag = torch.isfinite(loss.detach()).all().to(torch.float32)
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard against a NaN/Inf total loss before it reaches the weights.

    At ``before_train`` the hook wraps ``update_params`` of the runner's
    optimizer wrapper(s) (any :class:`~mmengine.optim.OptimWrapper`,
    ``AmpOptimWrapper`` included): when the total loss is not finite on
    **any** rank (checked with one all-reduce, so all ranks take the same
    decision and DDP never deadlocks), backward and the optimizer step are
    skipped on every rank, and the model's buffers (BatchNorm statistics,
    momentum encoders, queues) are put back to their values before the
    forward pass. Parameters, optimizer state and buffers are therefore
    exactly as before the bad step. Then, in ``after_train_iter``:

    * ``action='stop'`` raises :class:`NonFiniteLossError` naming the
      iteration, the non-finite loss keys of this rank and the last
      checkpoint (from which ``--resume`` continues);
    * ``action='skip'`` logs a warning and counts the step (message hub
      runtime info ``nonfinite_skips``, saved in checkpoints); with
      ``max_skips`` set, more skipped steps than that stop the run.

    Gradient clipping is separate: set ``optim_wrapper.clip_grad=dict(
    max_norm=..., norm_type=2)`` in the config.

    Args:
        action (str): ``'stop'`` or ``'skip'``.
        max_skips (int, optional): ``'skip'`` mode: stop once more than this
            many steps were skipped in total. ``None``: never stop.
        restore_buffers (bool): Put model buffers back after a skipped
            step (costs one copy of the buffers per iteration).
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 action: str = 'stop',
                 max_skips: Optional[int] = None,
                 restore_buffers: bool = True):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook.action must be 'stop' or "
                             f"'skip', got {action!r}")
        if max_skips is not None and max_skips < 0:
            raise ValueError(f'NonFiniteLossHook.max_skips must be >= 0 or '
                             f'None, got {max_skips}')
        self.action = action
        self.max_skips = max_skips
        self.restore_buffers = restore_buffers
        self.num_skipped = 0
        self._bad_loss: Optional[float] = None
        self._buffers: Optional[List[torch.Tensor]] = None
        self._originals: Dict[int, Optional[Callable]] = {}
        self._wrappers: List[OptimWrapper] = []

    # ------------------------------------------------------------ set-up --
    def before_train(self, runner) -> None:
        """Wrap the optimizer wrapper(s); read the resumed skip count."""
        self.num_skipped = int(runner.message_hub.get_info(SKIPS_KEY, 0))
        optim = runner.optim_wrapper
        wrappers = list(optim.values()) if isinstance(
            optim, OptimWrapperDict) else [optim]
        for wrapper in wrappers:
            if id(wrapper) in self._originals:
                continue
            own = vars(wrapper).get('update_params')
            self._originals[id(wrapper)] = own
            wrapper.update_params = self._guard(wrapper.update_params)
            self._wrappers.append(wrapper)

    def after_train(self, runner) -> None:
        """Remove the wrapping."""
        for wrapper in self._wrappers:
            own = self._originals.pop(id(wrapper))
            if own is None:
                del wrapper.update_params  # back to the class's method
            else:
                wrapper.update_params = own
        self._wrappers = []

    def _guard(self, update_params: Callable) -> Callable:

        def guarded(loss: torch.Tensor, *args, **kwargs):
            if _all_ranks_finite(loss):
                return update_params(loss, *args, **kwargs)
            self._bad_loss = float(loss.detach().float().cpu())
            return None

        return guarded

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return unwrap_model(runner.model)

    # ----------------------------------------------------------- per step --
    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Snapshot the buffers the forward pass may change."""
        self._bad_loss = None
        if self.restore_buffers:
            self._buffers = [b.detach().clone()
                             for b in self._model(runner).buffers()]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Stop or count when this step's loss was not finite."""
        if self._bad_loss is None:
            self._buffers = None
            return
        if self.restore_buffers and self._buffers is not None:
            with torch.no_grad():
                for buf, saved in zip(self._model(runner).buffers(),
                                      self._buffers):
                    buf.copy_(saved)
        self._buffers = None
        message = self._describe(runner, outputs or {})
        if self.action == 'stop':
            raise NonFiniteLossError(message)
        self.num_skipped += 1
        runner.message_hub.update_info(SKIPS_KEY, self.num_skipped)
        logger = MMLogger.get_current_instance()
        logger.warning(f'{message}; step skipped ({self.num_skipped} so '
                       'far)')
        if self.max_skips is not None and self.num_skipped > self.max_skips:
            raise NonFiniteLossError(
                f'{self.num_skipped} training steps had a non-finite loss, '
                f'more than max_skips={self.max_skips}; last: {message}')

    def _describe(self, runner, outputs: Dict[str, Any]) -> str:
        rank, world_size = get_dist_info()
        bad = [f'{key}={_as_float(value):g}' for key, value in outputs.items()
               if not _is_finite(value)]
        where = f' on rank {rank}' if world_size > 1 else ''
        if bad:
            keys = f'non-finite loss keys{where}: {", ".join(bad)}'
        elif math.isfinite(self._bad_loss):
            keys = (f'the loss is finite{where} ({self._bad_loss:g}); '
                    'another rank had a non-finite loss')
        else:
            keys = 'every loss term is finite but their sum is not'
        last = runner.message_hub.get_info('last_ckpt')
        resume = (f'last checkpoint: {last} (continue with --resume {last})'
                  if last else 'no checkpoint has been saved yet')
        return (f'non-finite total loss at iteration {runner.iter + 1}: '
                f'{keys}; the weights, optimizer state '
                f'and buffers were not updated by this step; {resume}. '
                'Consider a lower learning rate, optim_wrapper.clip_grad, '
                'or checking the data with tools/misc/check_dataset.py')
