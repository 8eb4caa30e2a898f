# Copyright (c) mmmtl contributors. All rights reserved.
"""Stop (or skip the step) when the total training loss is not finite, or
stop when it spikes far above its running median."""
import math
import os.path as osp
import statistics
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.registry import HOOKS

from mmmtl.utils.distributed import unwrap_model
from .safe_checkpoint_hook import get_rng_state, set_rng_state

#: Message hub key (runtime info, resumed) of the number of skipped steps.
SKIPS_KEY = 'nonfinite_skips'
#: Message hub key: index (``runner.iter``) of the last skipped step.
SKIPPED_ITER_KEY = 'nonfinite_skipped_iter'
#: Message hub key (resumed): the recent accepted losses of the spike check.
LOSS_WINDOW_KEY = 'loss_guard_window'
#: Message hub key (resumed): ``[path, iteration, loss, median]`` of the
#: newest checkpoint saved while the loss was normal.
NORMAL_CKPT_KEY = 'loss_guard_normal_checkpoint'


class NonFiniteLossError(FloatingPointError):
    """The total training loss became NaN or infinite (or spiked)."""


class LossSpikeError(NonFiniteLossError):
    """The total training loss jumped far above its running median."""


def step_was_skipped(runner) -> bool:
    """Whether :class:`NonFiniteLossHook` skipped the current iteration.

    Hooks that accumulate per-step statistics (e.g. loss-weighting hooks)
    call it in ``after_train_iter`` and leave a skipped step out, so their
    state is the same as if the step had never happened.
    """
    hub = getattr(runner, 'message_hub', None)  # stand-in runners: none
    return hub is not None and \
        hub.get_info(SKIPPED_ITER_KEY) == runner.iter


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


def global_loss(loss: torch.Tensor) -> Tuple[bool, float]:
    """Whether ``loss`` is finite on every rank, and its mean over ranks.

    One all-reduce of two numbers, so every rank takes the same decision
    (and DDP never deadlocks).

    Returns:
        tuple[bool, float]: ``(all finite, mean loss)``; the mean is NaN
        when some rank's loss is not finite.
    """
    value = loss.detach().float().sum()
    finite = bool(torch.isfinite(value))
    stats = torch.tensor([0.0 if finite else 1.0,
                          float(value) if finite else 0.0],
                         dtype=torch.float64)
    world_size = 1
    if torch_dist.is_available() and torch_dist.is_initialized():
        world_size = torch_dist.get_world_size()
        device = loss.device if torch_dist.get_backend() == 'nccl' else 'cpu'
        stats = stats.to(device)
        torch_dist.all_reduce(stats, op=torch_dist.ReduceOp.SUM)
        stats = stats.cpu()
    if stats[0] > 0:
        return False, math.nan
    return True, float(stats[1]) / world_size


def mutable_model_state(model: torch.nn.Module) -> List[torch.Tensor]:
    """The tensors a forward pass may change in place.

    Every buffer (BatchNorm statistics, MoCo queues, DenseCL memory banks,
    the EMA step counter) and every parameter that gets no gradient
    (momentum encoders update theirs during the forward pass). Trainable
    parameters change only in the optimizer step, which a skipped step
    never reaches.
    """
    tensors = list(model.buffers())
    tensors += [p for p in model.parameters() if not p.requires_grad]
    return tensors


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard against a NaN/Inf (or spiking) total loss before it reaches
    the weights.

    At ``before_train`` the hook wraps ``update_params`` of the runner's
    optimizer wrapper(s) (any :class:`~mmengine.optim.OptimWrapper`,
    ``AmpOptimWrapper`` included). Before backward, the total loss is
    checked on every rank with one all-reduce (all ranks take the same
    decision, so DDP never deadlocks). A bad step -- a non-finite loss on
    any rank, or with ``spike_ratio`` a rank-mean loss above ``spike_ratio``
    times the median of the last ``spike_window`` accepted losses -- skips
    backward and the optimizer step on every rank.

    **Exact skip.** Before each forward the hook copies everything a
    forward pass may change (:func:`mutable_model_state`: all buffers and
    the parameters without gradient, e.g. CompL's momentum encoders, MoCo
    queue and DenseCL memory bank) and the Python/numpy/torch random
    states; after a bad step it puts them back, and publishes the skip
    (:func:`step_was_skipped`) so that hooks accumulating statistics (the
    loss-weighting hooks: LPS, DWA, ...) leave the step out. The model,
    optimizer, random streams and hook statistics are therefore exactly as
    if the bad batch had never been drawn; only the iteration counter (and
    with it iteration-based schedules) moves on. Then, in
    ``after_train_iter``:

    * a spike raises :class:`LossSpikeError` naming the loss, the median
      and the newest checkpoint saved while the loss was still normal;
    * a non-finite loss with ``action='stop'`` raises
      :class:`NonFiniteLossError` naming the iteration, the non-finite loss
      keys of this rank and the checkpoint to resume from;
    * with ``action='skip'`` it logs a warning and counts the step (message
      hub runtime info ``nonfinite_skips``, saved in checkpoints); with
      ``max_skips`` set, more skipped steps than that stop the run.

    Gradient clipping is separate: set ``optim_wrapper.clip_grad=dict(
    max_norm=..., norm_type=2)`` in the config.

    Args:
        action (str): ``'stop'`` or ``'skip'`` (non-finite losses).
        max_skips (int, optional): ``'skip'`` mode: stop once more than this
            many steps were skipped in total. ``None``: never stop.
        restore_buffers (bool): Restore the forward-mutated state after a
            skipped step (costs one copy of the buffers and of the
            parameters without gradient per iteration).
        spike_ratio (float, optional): Stop when the loss exceeds this many
            times the running median (e.g. ``10``). ``None``: off.
        spike_window (int): Accepted losses in the running median.
        spike_warmup (int, optional): Accepted steps before the spike check
            starts (default ``spike_window``).
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 action: str = 'stop',
                 max_skips: Optional[int] = None,
                 restore_buffers: bool = True,
                 spike_ratio: Optional[float] = None,
                 spike_window: int = 50,
                 spike_warmup: Optional[int] = None):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook.action must be 'stop' or "
                             f"'skip', got {action!r}")
        if max_skips is not None and max_skips < 0:
            raise ValueError(f'NonFiniteLossHook.max_skips must be >= 0 or '
                             f'None, got {max_skips}')
        if spike_ratio is not None and not spike_ratio > 1:
            raise ValueError(f'NonFiniteLossHook.spike_ratio must be > 1 or '
                             f'None, got {spike_ratio}')
        if spike_window < 1:
            raise ValueError(f'NonFiniteLossHook.spike_window must be >= 1, '
                             f'got {spike_window}')
        self.action = action
        self.max_skips = max_skips
        self.restore_buffers = restore_buffers
        self.spike_ratio = spike_ratio
        self.spike_window = int(spike_window)
        self.spike_warmup = int(spike_window if spike_warmup is None else
                                spike_warmup)
        self.num_skipped = 0
        self.losses: List[float] = []
        self._bad_loss: Optional[float] = None
        self._spike: Optional[Tuple[float, float]] = None
        self._last_loss: Optional[float] = None
        self._saved: Optional[List[torch.Tensor]] = None
        self._saved_rng: Optional[Dict[str, Any]] = None
        self._originals: Dict[int, Optional[Callable]] = {}
        self._wrappers: List[OptimWrapper] = []

    # ------------------------------------------------------------ set-up --
    def before_train(self, runner) -> None:
        """Wrap the optimizer wrapper(s); read the resumed state."""
        hub = runner.message_hub
        self.num_skipped = int(hub.get_info(SKIPS_KEY, 0))
        self.losses = [float(v) for v in hub.get_info(LOSS_WINDOW_KEY, [])]
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
            finite, mean = global_loss(loss)
            if not finite:
                self._bad_loss = float(loss.detach().float().sum().cpu())
                return None
            median = self.running_median()
            if (self.spike_ratio is not None and median is not None
                    and mean > self.spike_ratio * median):
                self._bad_loss = mean
                self._spike = (mean, median)
                return None
            self._last_loss = mean
            return update_params(loss, *args, **kwargs)

        return guarded

    def running_median(self) -> Optional[float]:
        """Median of the recent accepted losses (``None`` in warm-up)."""
        if len(self.losses) < max(1, self.spike_warmup):
            return None
        return statistics.median(self.losses[-self.spike_window:])

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return unwrap_model(runner.model)

    # ----------------------------------------------------------- per step --
    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Copy the state the forward pass may change."""
        self._bad_loss = None
        self._spike = None
        self._last_loss = None
        if self.restore_buffers:
            self._saved = [t.detach().clone()
                           for t in mutable_model_state(self._model(runner))]
            self._saved_rng = get_rng_state()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Restore after a bad step, then stop or count it."""
        if self._bad_loss is None:
            self._accept(runner)
            return
        if self.restore_buffers and self._saved is not None:
            with torch.no_grad():
                for tensor, saved in zip(
                        mutable_model_state(self._model(runner)),
                        self._saved):
                    tensor.copy_(saved)
            set_rng_state(self._saved_rng)
        self._saved = self._saved_rng = None
        runner.message_hub.update_info(SKIPPED_ITER_KEY, runner.iter)
        if self._spike is not None:
            raise LossSpikeError(self._describe_spike(runner))
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

    def _accept(self, runner) -> None:
        self._saved = self._saved_rng = None
        if self._last_loss is None:  # update_params was not called
            return
        self.losses.append(self._last_loss)
        del self.losses[:-self.spike_window]
        runner.message_hub.update_info(LOSS_WINDOW_KEY, list(self.losses))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remember this checkpoint if the loss is normal when it is
        written (the spike message recommends it)."""
        path = runner.message_hub.get_info('last_ckpt')
        if not path or not self.losses:
            return
        loss, median = self.losses[-1], self.running_median()
        if median is None or self.spike_ratio is None or \
                loss <= self.spike_ratio * median:
            record = [str(path), int(runner.iter) + 1, float(loss),
                      None if median is None else float(median)]
            runner.message_hub.update_info(NORMAL_CKPT_KEY, record)
            hub = checkpoint.get('message_hub')
            if isinstance(hub, dict) and isinstance(
                    hub.get('runtime_info'), dict):  # this file names itself
                hub['runtime_info'][NORMAL_CKPT_KEY] = record

    # ---------------------------------------------------------- messages --
    @staticmethod
    def _normal_checkpoint(runner) -> str:
        record = runner.message_hub.get_info(NORMAL_CKPT_KEY)
        if not record:
            return ('no checkpoint was saved while the loss was normal; '
                    'restart with a lower learning rate')
        path, step, loss, _ = record
        gone = '' if osp.exists(path) else \
            ' (since deleted by max_keep_ckpts: keep more checkpoints)'
        return (f'last checkpoint saved while the loss was normal: {path} '
                f'(iteration {step}, loss {loss:.4g}){gone}; continue with '
                f'--resume {path} and a lower learning rate or '
                'optim_wrapper.clip_grad')

    def _describe_spike(self, runner) -> str:
        loss, median = self._spike
        return (f'loss spike at iteration {runner.iter + 1}: the total loss '
                f'{loss:.4g} (mean over ranks) is {loss / median:.1f} times '
                f'the median {median:.4g} of the last '
                f'{min(len(self.losses), self.spike_window)} steps '
                f'(spike_ratio={self.spike_ratio}); the weights, optimizer '
                'state and buffers were not updated by this step; '
                f'{self._normal_checkpoint(runner)}')

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
        if self.spike_ratio is not None:
            resume += f'; {self._normal_checkpoint(runner)}'
        return (f'non-finite total loss at iteration {runner.iter + 1}: '
                f'{keys}; the weights, optimizer state '
                f'and buffers were not updated by this step; {resume}. '
                'Consider a lower learning rate, optim_wrapper.clip_grad, '
                'or checking the data with tools/misc/check_dataset.py')
