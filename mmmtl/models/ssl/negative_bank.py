# Copyright (c) mmmtl contributors. All rights reserved.
"""Stores of negative keys: MoCo's FIFO queue and the CompL memory bank."""
from abc import ABCMeta, abstractmethod
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather
from torch import Tensor

#: Queue length of MoCo v2 / DenseCL on ImageNet (the paper-sized default).
PAPER_QUEUE_LEN = 65536


def gather_all(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank along dim 0 (itself when not
    distributed)."""
    return torch.cat(all_gather(tensor.contiguous()), dim=0)


class NegativeBank(nn.Module, metaclass=ABCMeta):
    """``size`` unit keys of dimension ``dim`` kept as a buffer (D, K).

    The keys start as random unit vectors (as MoCo). Buffers are part of the
    state dict, so checkpoints and ``resume`` carry them.

    Args:
        dim (int): Key dimension D.
        size (int): Number of stored keys K.
    """

    def __init__(self, dim: int, size: int):
        super().__init__()
        if size <= 0 or dim <= 0:
            raise ValueError(f'negative bank needs dim > 0 and size > 0, got '
                             f'dim={dim}, size={size}')
        self.dim = dim
        self.size = size
        self.register_buffer('keys',
                             F.normalize(torch.randn(dim, size), dim=0))

    def negatives(self) -> Tensor:
        """(D, K) detached copy of the stored keys."""
        return self.keys.clone().detach()

    def own_slot_mask(self, ids: Optional[Tensor]) -> Optional[Tensor]:
        """(N, K) bool mask of negatives that are the query's own image, or
        None when the bank cannot know (the queue)."""
        return None

    @abstractmethod
    def update(self, keys: Tensor, ids: Optional[Tensor] = None) -> None:
        """Store new (N, D) ``keys`` (gathered over ranks)."""


class NegativeQueue(NegativeBank):
    """MoCo's first-in-first-out queue with a wrapping write pointer.

    Each :meth:`update` writes the (all-gathered) batch of keys at the
    pointer, wrapping around the end, and advances the pointer by the batch
    size modulo ``size``. Unlike mmpretrain's queue, ``size`` need not be a
    multiple of the batch size; a batch larger than the queue keeps its last
    ``size`` keys.
    """

    def __init__(self, dim: int, size: int):
        super().__init__(dim, size)
        self.register_buffer('ptr', torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def update(self, keys: Tensor, ids: Optional[Tensor] = None) -> None:
        """Enqueue (N, D) ``keys``, dequeuing the oldest ones.

        Args:
            keys (Tensor): (N, D) new keys of this rank.
            ids (Tensor, optional): Ignored (the queue is not indexed).
        """
        keys = gather_all(keys.detach())
        num = keys.shape[0]
        if num > self.size:
            keys, num = keys[-self.size:], self.size
        ptr = int(self.ptr)
        slots = (ptr + torch.arange(num, device=self.keys.device)) % self.size
        self.keys[:, slots] = keys.t().to(self.keys.dtype)
        self.ptr[0] = (ptr + num) % self.size


class MemoryBank(NegativeBank):
    """One key per auxiliary image, indexed by the image's dataset index.

    The CompL authors' variant (their VISSL ``dataset_name`` option): the
    bank has one slot per image of the auxiliary set; each :meth:`update`
    overwrites the slots of the batch's images, and each query's *own* slot
    is masked out of its negatives (it holds an older key of the same image,
    which would be a false negative).
    """

    @torch.no_grad()
    def update(self, keys: Tensor, ids: Optional[Tensor] = None) -> None:
        """Write (N, D) ``keys`` into the slots ``ids`` (N,).

        Args:
            keys (Tensor): (N, D) new keys of this rank.
            ids (Tensor): (N,) dataset indices of the images.
        """
        if ids is None:
            raise ValueError('the memory bank needs the auxiliary image '
                             'indices (ssl_index) to update')
        self._check_ids(ids)
        keys = gather_all(keys.detach())
        ids = gather_all(ids.to(self.keys.device))
        self.keys[:, ids] = keys.t().to(self.keys.dtype)

    def own_slot_mask(self, ids: Optional[Tensor]) -> Optional[Tensor]:
        """(N, K) mask, True at ``[i, ids[i]]``.

        Args:
            ids (Tensor): (N,) dataset indices of the queries' images.
        """
        if ids is None:
            raise ValueError('the memory bank needs the auxiliary image '
                             'indices (ssl_index) to mask own slots')
        self._check_ids(ids)
        mask = torch.zeros(ids.numel(), self.size, dtype=torch.bool,
                           device=self.keys.device)
        mask[torch.arange(ids.numel(), device=mask.device),
             ids.to(mask.device)] = True
        return mask

    def _check_ids(self, ids: Tensor) -> None:
        if ids.numel() and (int(ids.min()) < 0
                            or int(ids.max()) >= self.size):
            raise IndexError(
                f'auxiliary image index {int(ids.max())} is outside the '
                f'memory bank of size {self.size}: set bank_size to the '
                'length of the auxiliary dataset')


def build_negative_bank(kind: str, dim: int, size: int) -> NegativeBank:
    """``'queue'`` -> :class:`NegativeQueue`, ``'memory_bank'`` ->
    :class:`MemoryBank`."""
    banks = dict(queue=NegativeQueue, memory_bank=MemoryBank)
    if kind not in banks:
        raise ValueError(f"negative_bank must be 'queue' or 'memory_bank', "
                         f'got {kind!r}')
    return banks[kind](dim, size)
