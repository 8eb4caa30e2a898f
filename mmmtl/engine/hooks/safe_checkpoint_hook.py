# Copyright (c) mmmtl contributors. All rights reserved.
"""A CheckpointHook whose checkpoints are never half-written and resume
bit-exactly."""
import os.path as osp
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger
from mmseg.registry import HOOKS

from mmmtl.utils.checkpoint_safety import (ATOMIC_BACKEND, atomic_write_bytes,
                                           remove_stale_temp_files)

#: Key of the per-rank random states in a checkpoint.
RNG_STATE_KEY = 'rng_state'


def get_rng_state() -> Dict[str, Any]:
    """Random states of this process: Python, numpy, torch CPU (+ CUDA).

    Returns:
        dict: ``python`` (tuple), ``numpy`` (tuple with a uint32 array),
        ``torch`` (uint8 tensor) and ``cuda`` (list of uint8 tensors, empty
        without CUDA). Every value loads with ``weights_only=True``.
    """
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() \
        else []
    return dict(python=random.getstate(), numpy=np.random.get_state(),
                torch=torch.get_rng_state(), cuda=list(cuda))


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore states returned by :func:`get_rng_state`."""
    python = state['python']
    random.setstate((python[0], tuple(python[1]), python[2]))
    np.random.set_state(tuple(state['numpy']))
    torch.set_rng_state(state['torch'].cpu())
    if state.get('cuda') and torch.cuda.is_available():
        if len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


class _RestoreBeforeNext:
    """Iterator proxy calling ``callback`` once, before item ``skip + 1``.

    :class:`~mmengine.runner.IterBasedTrainLoop` re-reads (and discards) the
    ``skip`` batches already trained on when it resumes; the training random
    state must be restored after that replay and before the first new batch
    is fetched, which is exactly where the interrupted run was.
    """

    def __init__(self, iterator, skip: int, callback):
        self._iterator = iterator
        self._remaining = skip
        self._callback = callback

    def __iter__(self):
        return self

    def __next__(self):
        if self._remaining == 0 and self._callback is not None:
            callback, self._callback = self._callback, None
            callback()
        self._remaining -= 1
        return next(self._iterator)

    def __getattr__(self, name: str):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` made crash-safe and exact.

    Arguments and behaviour are those of MMEngine's hook (interval,
    ``max_keep_ckpts``, ``save_best``, ...), plus:

    1. **Atomic files.** On a local ``out_dir`` (and without custom
       ``backend_args``/``file_client_args``) checkpoints and
       ``last_checkpoint`` are written through
       :class:`~mmmtl.utils.checkpoint_safety.AtomicLocalBackend`: temp file,
       fsync, rename. A process killed at any moment (SIGKILL included)
       leaves the previous complete files; leftover temp files are removed
       when training starts.
    2. **Safe order.** MMEngine deletes the oldest checkpoint (``max_keep_
       ckpts``) *before* writing the new one; here the new checkpoint is
       written, ``last_checkpoint`` is pointed at it, and only then are
       outdated checkpoints deleted, so ``last_checkpoint`` always names an
       existing, complete file.
    3. **Random state.** The Python, numpy and torch (CPU and CUDA) random
       states of every rank are stored under ``checkpoint['rng_state']`` and
       restored on ``--resume`` right before the first new batch is fetched
       (after MMEngine replays the batches already trained on), so random
       decisions of models and hooks continue the same sequence.
    4. **Validation does not consume training randomness**
       (``isolate_val_rng``): the random states are saved before each
       validation and restored after it, so a run's trajectory is the same
       whether it was validated (or resumed) at a given iteration or not.

    Model buffers (e.g. momentum encoders, queues) resume through the
    model's ``state_dict``; hooks resume their own state through
    ``before_save_checkpoint``/``after_load_checkpoint`` (see
    ``docs/en/user_guides/robustness.md``).

    Args:
        save_rng_state (bool): Save and restore random states (3).
        isolate_val_rng (bool): Keep validation out of the training random
            streams (4).
        **kwargs: Arguments of :class:`mmengine.hooks.CheckpointHook`.
    """

    def __init__(self,
                 *args,
                 save_rng_state: bool = True,
                 isolate_val_rng: bool = True,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.save_rng_state = save_rng_state
        self.isolate_val_rng = isolate_val_rng
        self.atomic = False
        self._gathered_rng: Optional[List[Dict[str, Any]]] = None
        self._val_rng: Optional[Dict[str, Any]] = None
        self._resume_rng: Optional[Dict[str, Any]] = None

    # ----------------------------------------------------------- set-up --
    def before_train(self, runner) -> None:
        """Set up the atomic backend and drop leftovers of killed writes."""
        super().before_train(runner)
        logger = MMLogger.get_current_instance()
        if (self.file_client_args is None and self.backend_args is None
                and type(self.file_backend) is LocalBackend):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
            self.file_backend = get_file_backend(
                self.out_dir, backend_args=self.backend_args)
            self.atomic = True
            if is_main_process():
                for folder in {self.out_dir, runner.work_dir}:
                    for path in remove_stale_temp_files(folder):
                        logger.warning(f'removed {path}, an unfinished '
                                       'write of an interrupted run')
        else:
            logger.warning(
                'SafeCheckpointHook: checkpoints go to a non-local or '
                'custom storage backend; they are written by that backend, '
                'without the atomic temp-file + rename guarantee')

    # ------------------------------------------------------------ saving --
    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Write checkpoint ``step``; then ``last_checkpoint``; then delete
        outdated checkpoints (never the other way round)."""
        kept, outdated = self._plan_keep(step)
        previous = list(self.keep_ckpt_ids) if kept is not None else None
        if kept is not None:  # the checkpoint's message hub lists itself
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if self.save_rng_state:
            self._gathered_rng = self._gather_training_rng()
        try:
            runner.save_checkpoint(
                self.out_dir,
                filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except BaseException:
            if previous is not None:
                runner.message_hub.update_info('keep_ckpt_ids', previous)
            raise
        finally:
            self._gathered_rng = None
        if kept is not None:
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept)
        if not is_main_process():
            return
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        if self.atomic:
            atomic_write_bytes(str(self.last_ckpt).encode(), pointer)
        else:
            with open(pointer, 'w') as f:
                f.write(str(self.last_ckpt))
        for old in outdated:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old)))

    def _plan_keep(self, step: int):
        """Kept checkpoint steps after saving ``step`` (``None``: no
        bookkeeping) and the steps whose files become outdated."""
        if self.max_keep_ckpts <= 0:
            return None, []
        kept = list(self.keep_ckpt_ids)
        if kept and kept[-1] == step:
            return kept, []
        kept.append(step)
        return kept[-self.max_keep_ckpts:], kept[:-self.max_keep_ckpts]

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Gather the random states on every rank before a best checkpoint."""
        if self.save_rng_state and self.save_best is not None:
            self._gathered_rng = self._gather_training_rng()
        super()._save_best_checkpoint(runner, metrics)
        self._gathered_rng = None

    def _gather_training_rng(self) -> List[Dict[str, Any]]:
        """Training random states of all ranks (collective: every rank)."""
        state = self._val_rng if self._val_rng is not None \
            else get_rng_state()
        _, world_size = get_dist_info()
        return all_gather_object(state) if world_size > 1 else [state]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add every rank's random state (main process only)."""
        if not self.save_rng_state:
            return
        states = self._gathered_rng
        if states is None:  # a save not triggered by this hook
            states = [self._val_rng or get_rng_state()]
        checkpoint[RNG_STATE_KEY] = dict(
            world_size=len(states), states=states)

    # ---------------------------------------------------------- resuming --
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the random states to restore if this load is a resume."""
        if not isinstance(checkpoint, dict):
            source = getattr(runner, '_load_from', None) or 'the checkpoint'
            raise TypeError(
                f'{source} holds a {type(checkpoint).__name__}; expected a '
                "checkpoint dict with 'state_dict' and 'meta'")
        saved = checkpoint.get(RNG_STATE_KEY)
        self._resume_rng = None
        if not self.save_rng_state or saved is None:
            return
        rank, world_size = get_dist_info()
        if saved.get('world_size') != world_size:
            saved_size = saved.get('world_size')
            MMLogger.get_current_instance().warning(
                f'the checkpoint holds random states of {saved_size} '
                f'process(es) but {world_size} are running: random states '
                'are not restored, so random decisions after resuming differ '
                'from an uninterrupted run')
            return
        self._resume_rng = dict(iter=checkpoint.get('meta', {}).get('iter'),
                                state=saved['states'][rank])

    def before_train_epoch(self, runner) -> None:
        """Arrange the restore of the random states of a resumed run."""
        pending, self._resume_rng = self._resume_rng, None
        if pending is None or pending['iter'] != runner.iter or \
                runner.iter == 0:
            return  # not a resume (e.g. ``load_from``)
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration based
            loop.dataloader_iterator = _RestoreBeforeNext(
                loop.dataloader_iterator, runner.iter,
                lambda: set_rng_state(pending['state']))
        else:  # epoch based: the epoch's data iterator is created next
            set_rng_state(pending['state'])

    # -------------------------------------------------------- validation --
    def before_val(self, runner) -> None:
        """Remember the training random state."""
        if self.isolate_val_rng:
            self._val_rng = get_rng_state()

    def after_val(self, runner) -> None:
        """Give training its random state back."""
        if self._val_rng is not None:
            set_rng_state(self._val_rng)
            self._val_rng = None
