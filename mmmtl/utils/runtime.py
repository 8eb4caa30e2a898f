# Copyright (c) mmmtl contributors. All rights reserved.
"""Adjust a config to the machine it runs on (CPU or GPU) and add the
training safeguards."""
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

# Imported for their side effects: safe ``weights_only`` checkpoint loading,
# the atomic file backend, and the CPU DDP wrapper's registration.
from . import checkpoint_safety  # noqa: F401
from .distributed import init_cpu_process_group

#: Values of the config key ``nonfinite_loss``.
NONFINITE_ACTIONS = ('stop', 'skip', 'off')


def use_safe_checkpoint_hook(cfg: Config) -> None:
    """Replace MMEngine's ``CheckpointHook`` by ``SafeCheckpointHook``.

    Same arguments; adds atomic writes, a safe deletion order and the
    random states needed for an exact resume (see
    :class:`~mmmtl.engine.hooks.SafeCheckpointHook`).
    """
    hooks = cfg.get('default_hooks') or {}
    checkpoint = hooks.get('checkpoint')
    if checkpoint is not None and checkpoint.get('type') in (
            'CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = 'SafeCheckpointHook'


def add_nonfinite_loss_guard(cfg: Config) -> None:
    """Add a ``NonFiniteLossHook`` unless the config has one.

    The top-level config key ``nonfinite_loss`` chooses its action:
    ``'stop'`` (default), ``'skip'`` or ``'off'`` (no guard);
    ``loss_spike_ratio`` (e.g. ``10``) also stops on a loss spike.
    """
    action = cfg.get('nonfinite_loss', 'stop')
    if action not in NONFINITE_ACTIONS:
        raise ValueError(f'nonfinite_loss must be one of {NONFINITE_ACTIONS},'
                         f' got {action!r}')
    hooks = cfg.get('custom_hooks') or []
    if action == 'off' or any(
            h.get('type') == 'NonFiniteLossHook' for h in hooks):
        return
    guard = ConfigDict(type='NonFiniteLossHook', action=action)
    if cfg.get('loss_spike_ratio') is not None:
        guard['spike_ratio'] = float(cfg.loss_spike_ratio)
    cfg.custom_hooks = list(hooks) + [guard]


def add_buffer_broadcast(cfg: Config) -> None:
    """Add a ``BroadcastBuffersHook`` unless the config has one (every
    rank validates rank 0's buffers; a no-op in one process)."""
    hooks = cfg.get('custom_hooks') or []
    if not any(h.get('type') == 'BroadcastBuffersHook' for h in hooks):
        cfg.custom_hooks = list(hooks) + [
            ConfigDict(type='BroadcastBuffersHook')]


def setup_runtime(cfg: Config, amp: bool = False) -> None:
    """Make a config run on this machine, GPU or CPU, with the safeguards.

    Always:

    * ``CheckpointHook`` becomes ``SafeCheckpointHook``; a
      ``NonFiniteLossHook`` and a ``BroadcastBuffersHook`` are added (see
      :func:`use_safe_checkpoint_hook`, :func:`add_nonfinite_loss_guard`,
      :func:`add_buffer_broadcast`).

    With CUDA, the config's ``env_cfg.dist_cfg.backend`` (NCCL by default)
    and MMEngine's own launchers are used. On a machine without CUDA:

    * a ``nccl`` backend becomes ``gloo`` (another explicit backend is
      kept), and the process group of ``pytorch``/``slurm``/``mpi``
      launchers is initialised here, because MMEngine's ``init_dist`` calls
      ``torch.cuda.set_device`` (which fails without a GPU);
    * the model is wrapped by :class:`~mmmtl.utils.distributed.
      CPUDistributedDataParallel` (no ``device_ids``; SyncBN converted to a
      gloo-capable version);
    * ``--amp`` is refused with a clear message (MMEngine's
      ``AmpOptimWrapper`` supports CUDA devices only).

    Args:
        cfg (Config): The config, changed in place.
        amp (bool): Whether AMP was requested on the command line.
    """
    # imported here: the hooks package imports mmmtl.utils
    import mmmtl.engine.hooks.nonfinite_loss_hook  # noqa: F401
    import mmmtl.engine.hooks.broadcast_buffers_hook  # noqa: F401
    import mmmtl.engine.hooks.safe_checkpoint_hook  # noqa: F401
    use_safe_checkpoint_hook(cfg)
    if cfg.get('train_cfg'):
        add_nonfinite_loss_guard(cfg)
        add_buffer_broadcast(cfg)
    if torch.cuda.is_available():
        return
    if amp or (cfg.get('optim_wrapper') or {}).get(
            'type') == 'AmpOptimWrapper':
        raise RuntimeError(
            'mixed precision (--amp / AmpOptimWrapper) needs a CUDA GPU, and '
            'none is available; train without --amp on the CPU')
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel')
    if wrapper.get('type', 'MMDistributedDataParallel') in (
            'MMDistributedDataParallel', 'CPUDistributedDataParallel'):
        wrapper['type'] = 'CPUDistributedDataParallel'
    else:
        print_log(f'model_wrapper_cfg.type={wrapper["type"]} is kept on the '
                  'CPU; SyncBN layers are not converted for gloo',
                  logger='current')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    init_cpu_process_group(launcher, backend=dist_cfg['backend'],
                           timeout=dist_cfg.get('timeout'))
