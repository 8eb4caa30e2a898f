# Copyright (c) mmmtl contributors. All rights reserved.
"""Batched ground truth of one task: stacking and the valid-pixel mask."""
from typing import Optional, Sequence

import torch
from torch import Tensor

from .multitask_data_sample import MultiTaskDataSample
from .tasks import TaskSpec


def stack_gt(data_samples: Sequence[MultiTaskDataSample],
             spec: TaskSpec) -> Optional[Tensor]:
    """Stack one task's padded ground truth of a batch.

    Args:
        data_samples (Sequence[MultiTaskDataSample]): Batch samples.
        spec (TaskSpec): The task.

    Returns:
        Tensor | None: (B, C, H, W) ground truth; samples without the task
        contribute an all-ignore map. ``None`` if no sample has it.
    """
    maps = [s.get(spec.gt_field) for s in data_samples]
    present = [m.data for m in maps if m is not None]
    if not present:
        return None
    template = present[0]
    return torch.stack([
        m.data if m is not None else torch.full_like(template,
                                                     spec.ignore_value)
        for m in maps
    ])


def valid_mask(gt: Tensor, spec: TaskSpec) -> Tensor:
    """Valid pixels of a ground-truth map.

    Args:
        gt (Tensor): (B, C, H, W) ground truth of the task (as from
            :func:`stack_gt`).
        spec (TaskSpec): The task.

    Returns:
        Tensor: (B, 1, H, W) bool mask; a continuous task's pixel is valid
        when any channel differs from ``spec.ignore_value``.
    """
    return (gt != spec.ignore_value).any(dim=1, keepdim=True) \
        if spec.is_continuous else (gt != spec.ignore_value)
