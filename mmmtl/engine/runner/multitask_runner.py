# Copyright (c) mmmtl contributors. All rights reserved.
"""The runner every mmmtl config declares (``runner_type`` in
``configs/_base_/default_runtime.py``)."""
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from mmmtl.utils.checkpoint_safety import resolve_auto_resume
from mmmtl.utils.runtime import setup_runtime
from mmmtl.utils.task_consistency import check_task_consistency

# The hooks `setup_runtime` names by type must be registered wherever the
# runner is built (they are, by `import mmmtl`; imported here so that the
# dependency is explicit).
from ..hooks import (BroadcastBuffersHook, NonFiniteLossHook,  # noqa: F401
                     SafeCheckpointHook)


def prepare_runtime_cfg(cfg: Config) -> Config:
    """Apply mmmtl's checks and safeguards to a config, in place.

    In this order: ``--resume`` without a ``last_checkpoint`` pointer picks
    the newest complete checkpoint (:func:`~mmmtl.utils.checkpoint_safety.
    resolve_auto_resume`); the task lists of model, data and metric must
    agree (:func:`~mmmtl.utils.task_consistency.check_task_consistency`);
    the safe checkpoint hook, the non-finite-loss guard, the buffer
    broadcast and the CPU/GPU settings are applied
    (:func:`~mmmtl.utils.runtime.setup_runtime`). Every step is idempotent.

    Args:
        cfg (Config): The config, changed in place.

    Returns:
        Config: ``cfg``.
    """
    resolve_auto_resume(cfg)
    check_task_consistency(cfg)
    setup_runtime(cfg)
    return cfg


@RUNNERS.register_module()
class MultiTaskRunner(Runner):
    """MMEngine's :class:`~mmengine.runner.Runner` built from a config with
    mmmtl's safeguards applied.

    ``configs/_base_/default_runtime.py`` declares
    ``runner_type = 'MultiTaskRunner'``, so every training entry point that
    honours ``runner_type`` - MMSegmentation's own ``tools/train.py`` and
    ``tools/test.py`` as well as ours - builds this runner, and
    :meth:`from_cfg` prepares the config with :func:`prepare_runtime_cfg`
    before the runner is constructed (before MMEngine would initialise the
    process group, so a CPU job gets gloo). The running itself is MMEngine's.

    What the config gets (see :func:`~mmmtl.utils.runtime.setup_runtime`):
    ``CheckpointHook`` becomes ``SafeCheckpointHook`` (atomic writes, exact
    resume); a ``NonFiniteLossHook`` (config keys ``nonfinite_loss``,
    ``loss_spike_ratio``) and a ``BroadcastBuffersHook`` are added unless
    present; dataloader workers are fitted to the machine; without CUDA (or
    with ``MMMTL_DEVICE=cpu``) NCCL becomes gloo and the model wrapper
    :class:`~mmmtl.utils.distributed.CPUDistributedDataParallel`.
    Weights-only checkpoint loading is active from ``import mmmtl`` on.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'MultiTaskRunner':
        """Prepare ``cfg`` (in place) and build the runner from it.

        Args:
            cfg (Config): The full config (a ``ConfigDict`` works too).

        Returns:
            MultiTaskRunner: The runner.
        """
        prepare_runtime_cfg(cfg)
        return super().from_cfg(cfg)
