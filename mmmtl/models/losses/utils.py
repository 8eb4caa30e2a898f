# Copyright (c) mmmtl contributors. All rights reserved.
"""Helpers shared by the per-task losses, and their calling convention.

Every per-task loss (the ones here and MMSegmentation's) is called by
:meth:`BaseMultiTaskHead.task_loss
<mmmtl.models.decode_heads.BaseMultiTaskHead.task_loss>` as::

    loss(pred, target, ignore_index=spec.ignore_value)

* ``pred``: (B, C_t, H, W) logits or values, already resized to the target;
* ``target``: (B, H, W) class ids for discrete tasks (the layout of
  MMSegmentation's losses), (B, C_gt, H, W) for the others;
* ``ignore_index``: the task table's ``ignore_value`` (255 for labels and
  binary maps, 0 for depth and normals). A pixel is ignored when every
  channel of its target equals it
  (:func:`mmmtl.structures.valid_pixels`).

Why an ignore value rather than a boolean valid mask: it is the convention
of MMSegmentation's losses (``CrossEntropyLoss``, ``FocalLoss``,
``DiceLoss`` take ``ignore_index=``; ``LovaszLoss`` accepts and ignores it),
so any of them plugs into a task's ``losses`` unchanged; the encoding of
"no label" stays in one place, the task table, which is also what padding
and samples without the task write into the ground truth; and the callers
need no per-kind branch to build masks.
"""
import torch


def masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over ``valid`` pixels, differentiable and finite.

    Args:
        values (Tensor): (B, 1, H, W) per-pixel loss.
        valid (Tensor): (B, 1, H, W) bool mask.

    Returns:
        Tensor: Scalar; exactly 0 (with a gradient of 0) when no pixel is
        valid, never NaN.
    """
    valid = valid.to(values.dtype)
    total = (values * valid).sum()
    return total / valid.sum().clamp(min=1.0)
