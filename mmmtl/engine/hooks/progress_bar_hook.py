# Copyright (c) mmmtl contributors. All rights reserved.
"""Progress bars over training iterations and test/validation batches."""
import collections
import sys
import time
from typing import Callable, Deque, Optional, Sequence, TextIO

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmseg.registry import HOOKS


def format_duration(seconds: float) -> str:
    """``'42 s'``, ``'8 min 45 s'``, ``'1 h 04 min'``; rounded so an
    estimate does not flicker (10 s steps above 2 min, minutes above 1 h).
    """
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f'{int(seconds + 0.5)} s'
    if seconds < 3600:
        total = int(seconds / 10.0 + 0.5) * 10
        return f'{total // 60} min {total % 60:02d} s'
    total = int(seconds / 60.0 + 0.5)
    return f'{total // 60} h {total % 60:02d} min'


class IterationRate:
    """Iterations per second over a sliding window of recent iterations.

    The first ``skip`` iterations (data-loader workers starting, first
    allocations) are not counted; afterwards the rate is measured over the
    last ``window`` iterations, long enough to average out the jitter of a
    shared machine (a steady estimate) and short enough to follow a lasting
    change of load.

    Args:
        skip (int): Iterations ignored at the start.
        window (int): Iterations the rate is measured over.
    """

    def __init__(self, skip: int = 2, window: int = 50):
        if skip < 0 or window < 1:
            raise ValueError(f'IterationRate needs skip >= 0 and window >= '
                             f'1, got skip={skip}, window={window}')
        self.skip = skip
        self.window = window
        self._seen = 0
        self._times: Deque[float] = collections.deque(maxlen=window + 1)

    def update(self, now: float) -> None:
        """Record the end of one iteration at time ``now`` (seconds)."""
        self._seen += 1
        if self._seen >= self.skip:
            self._times.append(now)

    @property
    def measured(self) -> int:
        """Iterations the current rate is measured over."""
        return max(len(self._times) - 1, 0)

    def rate(self) -> Optional[float]:
        """Iterations per second, ``None`` before one measured iteration."""
        if self.measured == 0:
            return None
        elapsed = self._times[-1] - self._times[0]
        return self.measured / elapsed if elapsed > 0 else None


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Progress bars for training iterations, test and validation batches.

    MMEngine's loops only log every ``LoggerHook.interval`` iterations; this
    hook shows progress in between, on the main process only. In a config::

        custom_hooks = [dict(type='ProgressBarHook')]             # test
        custom_hooks = [dict(type='ProgressBarHook', train=True)]  # + train

    The training bar shows iterations done, iterations per second and the
    time left, measured over the last ``window`` iterations (see
    :class:`IterationRate`); after ``estimate_after`` measured iterations it
    prints once how long training is expected to take on this machine. On
    a terminal the bar is redrawn in place (at most ``refresh`` times a
    second); otherwise (a log file, CI) one line is written per 10 %.
    Test and validation bars are MMEngine's
    :class:`~mmengine.utils.ProgressBar`.

    Args:
        val (bool): Also draw a bar for each validation loop.
        train (bool): Draw a bar over the training iterations.
        estimate_after (int): Measured iterations before the expected
            training time is printed.
        window (int): Iterations the speed is measured over.
        refresh (float): Redraws per second on a terminal.
    """
    priority = 'VERY_LOW'

    def __init__(self, val: bool = False, train: bool = False,
                 estimate_after: int = 10, window: int = 50,
                 refresh: float = 2.0):
        self.val = val
        self.train = train
        self.estimate_after = estimate_after
        self.window = window
        self.refresh = refresh
        self.clock: Callable[[], float] = time.monotonic
        self._bar: Optional[ProgressBar] = None
        self._rate: Optional[IterationRate] = None
        self._file: TextIO = sys.stdout
        self._total = self._start_iter = 0
        self._start_time = self._last_draw = 0.0
        self._estimated = False
        self._decile = -1

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    def before_train(self, runner: Runner) -> None:
        """Start the training bar (from the resumed iteration, if any)."""
        if not (self.train and is_main_process()):
            return
        # The stream of now (not of import time), so redirects apply.
        self._file = sys.stdout
        self._total = runner.max_iters
        self._start_iter = runner.iter
        self._rate = IterationRate(window=self.window)
        self._start_time = self._last_draw = self.clock()
        self._estimated = False
        self._decile = -1

    def after_train_iter(self, runner: Runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Advance the training bar by one iteration."""
        if self._rate is None:
            return
        now = self.clock()
        self._rate.update(now)
        done = runner.iter + 1
        if not self._estimated and \
                self._rate.measured >= self.estimate_after:
            self._estimated = True
            self._print_estimate(done)
        line = self.train_line(done, now)
        if self._file.isatty():
            if now - self._last_draw >= 1.0 / self.refresh or \
                    done >= self._total:
                self._last_draw = now
                self._file.write('\r' + line)
                if done >= self._total:
                    self._file.write('\n')
                self._file.flush()
        else:
            decile = (10 * done) // max(self._total, 1)
            if decile > self._decile:
                self._decile = decile
                self._file.write(line + '\n')
                self._file.flush()

    def after_train(self, runner: Runner) -> None:
        """Stop the training bar."""
        self._rate = None

    def train_line(self, done: int, now: float) -> str:
        """One line: bar, iterations, speed, elapsed and remaining time."""
        total = max(self._total, 1)
        filled = int(round(30 * done / total))
        bar = '#' * filled + '.' * (30 - filled)
        text = (f'train [{bar}] {done}/{self._total} it, elapsed '
                f'{format_duration(now - self._start_time)}')
        rate = self._rate.rate() if self._rate is not None else None
        if rate is not None:
            left = (self._total - done) / rate
            text += f', {rate:.2f} it/s, left ~{format_duration(left)}'
        return text

    def _print_estimate(self, done: int) -> None:
        rate = self._rate.rate()
        if rate is None:
            return
        todo = self._total - self._start_iter
        self._file.write(
            ('\n' if self._file.isatty() else '') +
            f'Speed on this machine: {rate:.2f} iterations/s (measured over '
            f'{self._rate.measured} iterations): {todo} iterations take about '
            f'{format_duration(todo / rate)}.\n')
        self._file.flush()

    # ------------------------------------------------------------------ #
    # Testing and validation
    # ------------------------------------------------------------------ #
    def _start(self, loader) -> None:
        if is_main_process():
            # The stream of now (not of import time), so redirects apply.
            self._bar = ProgressBar(len(loader), file=sys.stdout)

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar.file.flush()
        self._bar = None

    def before_test_epoch(self, runner: Runner) -> None:
        """Start a bar over the test batches."""
        self._start(runner.test_dataloader)

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Advance the bar by one batch."""
        self._step()

    def after_test_epoch(self, runner: Runner, metrics=None) -> None:
        """End the bar's line."""
        self._finish()

    def before_val_epoch(self, runner: Runner) -> None:
        """Start a bar over the validation batches (if ``val``)."""
        if self.val:
            self._start(runner.val_dataloader)

    def after_val_iter(self, runner: Runner, batch_idx: int,
                       data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        """Advance the bar by one batch."""
        self._step()

    def after_val_epoch(self, runner: Runner, metrics=None) -> None:
        """End the bar's line."""
        self._finish()
