# Copyright (c) mmmtl contributors. All rights reserved.
"""Helpers shared by the masked per-task losses."""
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
