# Copyright (c) mmmtl contributors. All rights reserved.
"""Check that every distributed rank holds the same weights."""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmseg.registry import HOOKS

from mmmtl.utils.distributed import (broadcast_buffers_from_rank0,
                                     unwrap_model)


def state_digests(module: torch.nn.Module,
                  buffers: bool = True) -> Dict[str, str]:
    """SHA-1 of the exact bytes of every parameter (and buffer).

    Args:
        module (nn.Module): The model (unwrapped).
        buffers (bool): Include buffers (BatchNorm statistics, queues).

    Returns:
        dict[str, str]: ``state_dict`` key -> hex digest.
    """
    state = module.state_dict() if buffers else dict(
        module.named_parameters())
    digests = {}
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            continue
        data = tensor.detach().cpu().contiguous().reshape(-1)
        digest = hashlib.sha1(data.view(torch.uint8).numpy().tobytes()
                              if data.numel() else b'')
        digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
        digests[name] = digest.hexdigest()
    return digests


def compare_digests(per_rank: List[Dict[str, str]]) -> List[str]:
    """Names whose digest differs from rank 0's (or is missing) on any rank.

    Args:
        per_rank (list[dict[str, str]]): :func:`state_digests` of each rank.

    Returns:
        list[str]: Sorted differing names, each with the ranks that differ.
    """
    reference = per_rank[0]
    names = set().union(*[set(d) for d in per_rank])
    problems = []
    for name in sorted(names):
        ranks = [r for r, d in enumerate(per_rank)
                 if d.get(name) != reference.get(name)]
        if ranks:
            problems.append(f'{name} (ranks {ranks})')
    return problems


@HOOKS.register_module()
class RankConsistencyHook(Hook):
    """Raise when the ranks' weights diverge (distributed training only).

    DDP keeps replicas identical only if every rank applies the same
    updates; a rank-dependent code path (a hook using local losses, a
    non-synchronised buffer) makes them drift silently. Every ``interval``
    iterations (and after training) each rank hashes its ``state_dict``;
    the digests are all-gathered and any difference raises a
    ``RuntimeError`` naming the tensors and ranks.

    Buffers: with ``DistributedDataParallel(broadcast_buffers=True)`` (the
    default) DDP copies rank 0's buffers to every rank at the start of each
    forward, so between steps the ranks hold the BatchNorm statistics of
    their own last batch, which the next forward discards. The hook then
    broadcasts rank 0's buffers first (what the next forward does anyway;
    the trajectory is unchanged) and compares parameters and buffers, so it
    works with plain BN. With ``broadcast_buffers=False`` buffers are
    compared as they are: identical with SyncBN, legitimately different
    with plain BN (set ``buffers=False`` there).

    Args:
        interval (int): Check every this many iterations.
        buffers (bool): Also compare buffers.
        dump_dir (str, optional): Also write each rank's digests to
            ``<dump_dir>/rank_digests_iter<it>_rank<r>.json``.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 1000, buffers: bool = True,
                 dump_dir: Optional[str] = None):
        if interval <= 0:
            raise ValueError(f'RankConsistencyHook.interval must be > 0, '
                             f'got {interval}')
        self.interval = interval
        self.buffers = buffers
        self.dump_dir = dump_dir

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Check every ``interval`` iterations."""
        if self.every_n_train_iters(runner, self.interval):
            self.check(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        """Check the final weights."""
        self.check(runner, runner.iter)

    def check(self, runner, step: int) -> None:
        """Gather and compare the digests of all ranks."""
        rank, world_size = get_dist_info()
        if world_size == 1:
            return
        model = unwrap_model(runner.model)
        if self.buffers and getattr(runner.model, 'broadcast_buffers',
                                    False):
            broadcast_buffers_from_rank0(model)
        digests = state_digests(model, self.buffers)
        if self.dump_dir:
            os.makedirs(self.dump_dir, exist_ok=True)
            path = osp.join(self.dump_dir,
                            f'rank_digests_iter{step}_rank{rank}.json')
            with open(path, 'w') as f:
                json.dump(digests, f, indent=0, sort_keys=True)
        problems = compare_digests(all_gather_object(digests))
        if problems:
            raise RuntimeError(
                f'ranks diverged at iteration {step}: {len(problems)} of '
                f'{len(digests)} tensors differ from rank 0: '
                f'{problems[:20]}')
        MMLogger.get_current_instance().info(
            f'iteration {step}: all {world_size} ranks hold identical '
            f'weights ({len(digests)} tensors)')
