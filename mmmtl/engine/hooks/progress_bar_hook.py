# Copyright (c) mmmtl contributors. All rights reserved.
"""A progress bar over the batches of the test (and validation) loop."""
import sys
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmseg.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show MMEngine's :class:`~mmengine.utils.ProgressBar` while testing.

    MMEngine's test loop only logs every ``LoggerHook.interval`` batches;
    this hook draws a bar with the elapsed time and an estimate of the time
    left, on the main process only. In a config::

        custom_hooks = [dict(type='ProgressBarHook')]

    Args:
        val (bool): Also draw a bar for each validation loop.
    """
    priority = 'VERY_LOW'

    def __init__(self, val: bool = False):
        self.val = val
        self._bar: Optional[ProgressBar] = None

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
