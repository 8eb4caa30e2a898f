# Copyright (c) mmmtl contributors. All rights reserved.
"""Adjust a config to the machine it runs on (CPU or GPU) and add the
training safeguards.

:class:`~mmmtl.engine.runner.MultiTaskRunner` (the ``runner_type`` of every
config) applies :func:`setup_runtime` before it is built. The hooks are
named by their registered type only; ``import mmmtl`` registers them.
"""
import logging
import os
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from .distributed import init_cpu_process_group

#: Values of the config key ``nonfinite_loss``.
NONFINITE_ACTIONS = ('stop', 'skip', 'off')

#: Environment variable choosing the device: ``cpu`` trains and tests on the
#: CPU (gloo for several processes) even where a GPU is visible. The tools
#: (``tools/train.py``, ``tools/test.py``) also hide the GPUs from PyTorch
#: when it is set, before CUDA is initialised.
DEVICE_ENV = 'MMMTL_DEVICE'


def forced_cpu(environ=None) -> bool:
    """Whether ``MMMTL_DEVICE=cpu`` asks for the CPU.

    Raises:
        ValueError: For another value than ``cpu``, ``cuda`` or empty.
    """
    value = (os.environ if environ is None else environ).get(
        DEVICE_ENV, '').strip().lower()
    if value not in ('', 'cpu', 'cuda'):
        raise ValueError(f"{DEVICE_ENV}={value!r}: expected 'cpu', 'cuda' "
                         'or unset')
    return value == 'cpu'


def use_cuda(environ=None) -> bool:
    """Whether this process trains on CUDA: a GPU is visible and
    ``MMMTL_DEVICE`` is not ``cpu``."""
    return not forced_cpu(environ) and torch.cuda.is_available()


def check_gpu_per_process(launcher: str, environ=None) -> None:
    """Refuse a distributed GPU job with more processes per node than GPUs.

    MMEngine binds local rank ``r`` to ``cuda:r``; with fewer GPUs the job
    would fail in ``torch.cuda.set_device`` ("invalid device ordinal").

    Args:
        launcher (str): The job's launcher (``'none'`` is not checked).
        environ (Mapping, optional): Environment (``os.environ``).

    Raises:
        RuntimeError: Naming the local rank, the visible GPUs and the ways
            out.
    """
    env = os.environ if environ is None else environ
    if launcher == 'none':
        return
    local_rank = int(env.get('LOCAL_RANK', env.get(
        'SLURM_LOCALID', env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))))
    gpus = torch.cuda.device_count()
    if local_rank >= gpus:
        raise RuntimeError(
            f'local rank {local_rank} needs GPU cuda:{local_rank}, but only '
            f'{gpus} GPU(s) are visible: start at most {gpus} processes per '
            f'node, or set {DEVICE_ENV}=cpu to run every process on the CPU '
            '(gloo)')


def hide_gpus_if_cpu_forced(environ=None) -> bool:
    """Hide the GPUs from PyTorch when ``MMMTL_DEVICE=cpu`` asks for the CPU.

    Sets ``CUDA_VISIBLE_DEVICES=''`` while CUDA is not yet initialised, so
    MMEngine's device choice (``get_device``) and ``torch.cuda`` see no GPU.
    Called by ``import mmmtl``, i.e. by every config through
    ``custom_imports``, so that MMSegmentation's own tools honour the
    variable too (ours also hide the GPUs before importing anything).

    Args:
        environ (MutableMapping, optional): Environment (``os.environ``).

    Returns:
        bool: Whether the GPUs are hidden (or CUDA was initialised already,
        in which case a WARNING says that the variable came too late).
    """
    env = os.environ if environ is None else environ
    if not forced_cpu(env):
        return False
    if torch.cuda.is_initialized():
        print_log(f'{DEVICE_ENV}=cpu: CUDA was initialised before mmmtl was '
                  'imported, the GPUs stay visible; set the variable before '
                  'starting Python', logger='current', level=logging.WARNING)
        return False
    env['CUDA_VISIBLE_DEVICES'] = ''
    return True


def refuse_amp_without_cuda(amp: bool) -> None:
    """Refuse mixed precision when no CUDA GPU is in use.

    Args:
        amp (bool): Whether AMP was asked for (``--amp`` or an
            ``AmpOptimWrapper``).

    Raises:
        RuntimeError: ``amp`` without CUDA (MMEngine's ``AmpOptimWrapper``
            supports CUDA devices only).
    """
    if amp and not use_cuda():
        raise RuntimeError(
            'mixed precision (--amp / AmpOptimWrapper) needs a CUDA GPU, and '
            f'none is in use (no GPU visible, or {DEVICE_ENV}=cpu); train '
            'without --amp on the CPU')


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


#: Dataloaders of a config that :func:`fit_dataloaders` adjusts.
DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def fit_dataloaders(cfg: Config, cuda: bool, environ=None,
                    cpu_count: Optional[int] = None) -> None:
    """Fit the dataloaders' worker settings to this machine (in place).

    The dataset configs are written for a GPU machine (8 training workers,
    pinned memory). Here:

    * ``num_workers`` is capped at the CPU cores per process of this node,
      ``os.cpu_count() // LOCAL_WORLD_SIZE`` (at least 1): more workers than
      cores only compete with the training process;
    * ``pin_memory`` is turned off without CUDA (PyTorch warns and ignores
      it there);
    * ``persistent_workers`` is turned off for loaders left without workers
      (PyTorch refuses the combination).

    Args:
        cfg (Config): The config.
        cuda (bool): Whether this process trains on a GPU.
        environ (Mapping, optional): Environment (``os.environ``).
        cpu_count (int, optional): Cores of the machine (``os.cpu_count()``).
    """
    env = os.environ if environ is None else environ
    cores = cpu_count or os.cpu_count() or 1
    per_node = max(1, int(env.get('LOCAL_WORLD_SIZE', '1') or 1))
    cap = max(1, cores // per_node)
    for key in DATALOADER_KEYS:
        loader = cfg.get(key)
        if not isinstance(loader, dict):
            continue
        workers = loader.get('num_workers', 0)
        if workers > cap:
            print_log(f'{key}.num_workers={workers} is more than the {cap} '
                      f'CPU core(s) per process here; using {cap}',
                      logger='current')
            loader['num_workers'] = workers = cap
        if not cuda and loader.get('pin_memory'):
            loader['pin_memory'] = False
        if workers == 0 and loader.get('persistent_workers'):
            loader['persistent_workers'] = False


def setup_runtime(cfg: Config, amp: bool = False) -> None:
    """Make a config run on this machine, GPU or CPU, with the safeguards.

    Always:

    * ``CheckpointHook`` becomes ``SafeCheckpointHook``; a
      ``NonFiniteLossHook`` and a ``BroadcastBuffersHook`` are added (see
      :func:`use_safe_checkpoint_hook`, :func:`add_nonfinite_loss_guard`,
      :func:`add_buffer_broadcast`);
    * the dataloaders' workers and pinned memory are fitted to the machine
      (see :func:`fit_dataloaders`).

    With CUDA, the config's ``env_cfg.dist_cfg.backend`` (NCCL by default)
    and MMEngine's own launchers are used (a job with more processes per node
    than visible GPUs is refused, see :func:`check_gpu_per_process`). On a
    machine without CUDA, or with ``MMMTL_DEVICE=cpu``:

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
    use_safe_checkpoint_hook(cfg)
    if cfg.get('train_cfg'):
        add_nonfinite_loss_guard(cfg)
        add_buffer_broadcast(cfg)
    cuda = use_cuda()
    fit_dataloaders(cfg, cuda)
    if cuda:
        check_gpu_per_process(cfg.get('launcher', 'none'))
        return
    refuse_amp_without_cuda(amp or (cfg.get('optim_wrapper') or {}).get(
        'type') == 'AmpOptimWrapper')
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
