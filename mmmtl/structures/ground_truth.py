# Copyright (c) mmmtl contributors. All rights reserved.
"""Batched ground truth of one task: stacking and the valid-pixel mask."""
from typing import Optional, Sequence, Union

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


def valid_pixels(target: Tensor, ignore_index: Union[int, float]) -> Tensor:
    """Pixels whose target is not ``ignore_index`` in every channel.

    The rule of every loss (see :mod:`mmmtl.models.losses.utils`) and of
    :func:`valid_mask`.

    Args:
        target (Tensor): (B, C, H, W) ground truth.
        ignore_index (int | float): Value of ignored pixels.

    Returns:
        Tensor: (B, 1, H, W) bool mask.
    """
    if target.dim() != 4:
        raise ValueError(f'target must be (B, C, H, W), got shape '
                         f'{tuple(target.shape)}')
    return (target != ignore_index).any(dim=1, keepdim=True)


def valid_mask(gt: Tensor, spec: TaskSpec) -> Tensor:
    """Valid pixels of a ground-truth map.

    Args:
        gt (Tensor): (B, C, H, W) ground truth of the task (as from
            :func:`stack_gt`).
        spec (TaskSpec): The task.

    Returns:
        Tensor: (B, 1, H, W) bool mask; a pixel is valid when any channel
        differs from ``spec.ignore_value`` (:func:`valid_pixels`; labels
        and binary maps have one channel).
    """
    return valid_pixels(gt, spec.ignore_value)
