# Copyright (c) mmmtl contributors. All rights reserved.
"""Distributed training on CPUs (gloo): process group, DDP wrapper, SyncBN.

MMEngine's launchers assume GPUs (``init_dist`` calls
``torch.cuda.set_device``, the DDP wrapper gets GPU ``device_ids``) and
PyTorch's :class:`~torch.nn.SyncBatchNorm` refuses CPU tensors. This module
provides the CPU counterparts that :func:`mmmtl.utils.setup_runtime` puts in
place when no GPU is present; on GPUs nothing here is used.
"""
import atexit
import os
import subprocess
from typing import Callable, Dict, Mapping, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS


_SYNC_BN_GROUPS: Dict[int, object] = {}


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a DDP/FSDP wrapper (or the model itself).

    Args:
        model (nn.Module): A model, wrapped or not.

    Returns:
        nn.Module: ``model.module`` for an MMEngine model wrapper, else
        ``model``.
    """
    return model.module if is_model_wrapper(model) else model


def sync_bn_group():
    """The process group of :class:`CPUSyncBatchNorm` (created on first use).

    SyncBN's all-reduces run inside the autograd backward, while DDP's
    gradient-bucket all-reduces are in flight on the default group. Gloo
    runs a group's collectives on several worker threads, so mixing the two
    streams on one group can pair different collectives across ranks and
    abort the process ("terminate called without an active exception"). A
    dedicated group keeps SyncBN's collectives in their own ordered stream.
    Every rank reaches the first SyncBN forward at the same point of the
    first iteration, which is where the (collective) creation happens.
    """
    key = id(dist.group.WORLD)
    if key not in _SYNC_BN_GROUPS:
        _SYNC_BN_GROUPS[key] = dist.new_group(backend='gloo')
    return _SYNC_BN_GROUPS[key]


def destroy_process_groups() -> None:
    """Destroy every process group (the default one and SyncBN's), if any.

    Registered with :mod:`atexit` when this module is imported, so it runs
    at the end of every training/testing process - also under
    MMSegmentation's own ``tools/train.py`` - while the interpreter is still
    intact. A process that exits with live gloo groups can abort in the
    groups' destructors ("terminate called without an active exception",
    PyTorch issue 190489), which turns a finished run into exit code -6.
    Groups the user already destroyed make this a no-op.
    """
    _SYNC_BN_GROUPS.clear()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


atexit.register(destroy_process_groups)


class CPUSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch normalisation with statistics over all ranks, for CPU/gloo.

    Equivalent to :class:`torch.nn.SyncBatchNorm` (which needs GPUs): in
    training with more than one process, the per-channel mean and the biased
    variance are computed over the union of every rank's batch with two
    differentiable all-reduces (float64 partial sums, then the centred
    squares), so gradients flow across ranks exactly as if the whole global
    batch had been normalised at once. Running statistics use the unbiased
    global variance, like PyTorch. In evaluation, or with one process, it is
    plain batch normalisation.

    Args:
        num_features (int): Channels ``C`` of (N, C, ...) inputs.
        eps, momentum, affine, track_running_stats: As in
            :class:`torch.nn.BatchNorm2d`.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'CPUSyncBatchNorm expects (N, C, ...) input, '
                             f'got {input.dim()}D')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` of shape (N, C, ...) with global statistics."""
        self._check_input_dim(x)
        if not (self.training and dist.is_available()
                and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce
        group = sync_bn_group()
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = x.new_tensor([x.numel() / x.shape[1]], dtype=torch.float64)
        stats = all_reduce(torch.cat([x.sum(dims).double(), count]),
                           group=group)
        total = stats[-1]
        mean = (stats[:-1] / total).to(x.dtype)
        centred = x - mean.view(shape)
        square_sum = all_reduce((centred * centred).sum(dims).double(),
                                group=group)
        var = (square_sum / total).to(x.dtype)
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(),
                                       float(total.detach()))
        return out

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor,
                              total: float) -> None:
        self.num_batches_tracked.add_(1)
        if self.momentum is None:  # cumulative moving average
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        unbiased = var * (total / max(total - 1.0, 1.0))
        self.running_mean.mul_(1 - factor).add_(factor * mean)
        self.running_var.mul_(1 - factor).add_(factor * unbiased)


def convert_sync_batchnorm_for_cpu(module: nn.Module) -> nn.Module:
    """Replace every :class:`torch.nn.SyncBatchNorm` by
    :class:`CPUSyncBatchNorm`, sharing its parameters and buffers.

    Args:
        module (nn.Module): Model (changed in place when it is not itself
            a SyncBatchNorm).

    Returns:
        nn.Module: The converted module.
    """
    if isinstance(module, nn.SyncBatchNorm):
        new = CPUSyncBatchNorm(module.num_features, module.eps,
                               module.momentum, module.affine,
                               module.track_running_stats)
        if module.affine:
            new.weight = module.weight
            new.bias = module.bias
        if module.track_running_stats:
            new.running_mean = module.running_mean
            new.running_var = module.running_var
            new.num_batches_tracked = module.num_batches_tracked
        new.train(module.training)
        return new
    for name, child in module.named_children():
        converted = convert_sync_batchnorm_for_cpu(child)
        if converted is not child:
            setattr(module, name, converted)
    return module


# Registered in MMEngine's root registry: ``Runner.wrap_model`` looks the
# wrapper type up there (``Registry.get`` does not search child scopes).
@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`~mmengine.model.MMDistributedDataParallel` for CPU processes.

    Runs DDP without ``device_ids`` (gradients are all-reduced with gloo) and
    converts SyncBN layers to :class:`CPUSyncBatchNorm` first, so configs
    written for GPUs (``norm_cfg=dict(type='SyncBN')``) train unchanged.

    Args:
        module (nn.Module): The model.
        device_ids: Ignored (must be CPU); accepted for MMEngine's defaults.
        **kwargs: Arguments of :class:`~torch.nn.parallel.
            DistributedDataParallel` (``broadcast_buffers``, ...).
    """

    def __init__(self, module: nn.Module, device_ids=None, **kwargs):
        module = convert_sync_batchnorm_for_cpu(module)
        super().__init__(module=module, device_ids=None, **kwargs)


@torch.no_grad()
def broadcast_buffers_from_rank0(module: nn.Module) -> int:
    """Give every rank rank 0's buffers (no-op without a process group).

    ``DistributedDataParallel(broadcast_buffers=True)`` (the default) does
    this at the *start* of every training forward, so after the last step
    of a training phase each rank still holds the BatchNorm statistics of
    its own last batch. Calling this before validation and at the end of
    training makes every rank hold exactly the buffers of rank 0, which are
    the ones rank 0 writes into the checkpoint. It changes nothing in the
    training trajectory: with ``broadcast_buffers=True`` the next forward
    would broadcast the same values; with ``broadcast_buffers=False``
    running statistics are not used by training-mode BatchNorm.

    Args:
        module (nn.Module): The (unwrapped) model.

    Returns:
        int: Number of buffers broadcast (0 in a single process).
    """
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return 0
    buffers = [b for b in module.buffers()]
    for buf in buffers:
        dist.broadcast(buf, src=0)
    return len(buffers)


def _slurm_master(nodelist: str,
                  run: Callable[[str], str]) -> str:
    return run(f'scontrol show hostname {nodelist} | head -n1').strip()


def launcher_env(launcher: str, environ: Optional[Mapping[str, str]] = None,
                 run: Optional[Callable[[str], str]] = None
                 ) -> Dict[str, str]:
    """Rank variables of a ``pytorch``/``slurm``/``mpi`` launched process.

    Args:
        launcher (str): ``'pytorch'`` (torchrun sets ``RANK``,
            ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``),
            ``'slurm'`` (``SLURM_PROCID``, ``SLURM_NTASKS``,
            ``SLURM_LOCALID``, ``SLURM_NODELIST``; the first node is the
            master, port ``MASTER_PORT`` or 29500) or ``'mpi'`` (Open MPI's
            ``OMPI_COMM_WORLD_*``; ``MASTER_ADDR`` defaults to localhost).
        environ (Mapping, optional): Environment (``os.environ``).
        run (callable, optional): Shell runner returning stdout (for
            ``scontrol``; injectable for tests).

    Returns:
        dict[str, str]: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
        ``MASTER_ADDR``, ``MASTER_PORT``.
    """
    env = dict(os.environ if environ is None else environ)

    def need(key: str) -> str:
        if key not in env:
            raise RuntimeError(f'--launcher {launcher}: environment variable '
                               f'{key} is not set; start the job with the '
                               f'matching launcher (see docs/en/user_guides/'
                               'distributed.md)')
        return env[key]

    if launcher == 'pytorch':
        out = dict(RANK=need('RANK'), WORLD_SIZE=need('WORLD_SIZE'),
                   LOCAL_RANK=env.get('LOCAL_RANK', '0'),
                   MASTER_ADDR=need('MASTER_ADDR'),
                   MASTER_PORT=need('MASTER_PORT'))
    elif launcher == 'slurm':
        run = run or (lambda cmd: subprocess.getoutput(cmd))
        out = dict(RANK=need('SLURM_PROCID'), WORLD_SIZE=need('SLURM_NTASKS'),
                   LOCAL_RANK=env.get('SLURM_LOCALID', '0'),
                   MASTER_ADDR=env.get('MASTER_ADDR') or _slurm_master(
                       need('SLURM_NODELIST'), run),
                   MASTER_PORT=env.get('MASTER_PORT', '29500'))
    elif launcher == 'mpi':
        out = dict(RANK=need('OMPI_COMM_WORLD_RANK'),
                   WORLD_SIZE=need('OMPI_COMM_WORLD_SIZE'),
                   LOCAL_RANK=env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'),
                   MASTER_ADDR=env.get('MASTER_ADDR', '127.0.0.1'),
                   MASTER_PORT=env.get('MASTER_PORT', '29500'))
    else:
        raise ValueError(f"unknown launcher {launcher!r}; expected 'pytorch',"
                         " 'slurm' or 'mpi'")
    return out


def init_cpu_process_group(launcher: str, backend: str = 'gloo',
                           timeout: Optional[int] = None) -> None:
    """Initialise the process group of a CPU job (idempotent).

    Exports the variables of :func:`launcher_env` (MMEngine and the data
    samplers read them) and calls :func:`torch.distributed.
    init_process_group` with ``init_method='env://'``.

    Args:
        launcher (str): ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        backend (str): ``'gloo'`` (or ``'mpi'`` if PyTorch was built with it).
        timeout (int, optional): Collective timeout in seconds.
    """
    if dist.is_initialized():
        return
    env = launcher_env(launcher)
    os.environ.update(env)
    kwargs = {}
    if timeout is not None:
        from datetime import timedelta
        kwargs['timeout'] = timedelta(seconds=timeout)
    dist.init_process_group(
        backend=backend, init_method='env://', rank=int(env['RANK']),
        world_size=int(env['WORLD_SIZE']), **kwargs)
