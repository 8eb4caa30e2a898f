# Copyright (c) mmmtl contributors. All rights reserved.
"""Equal weighting: the plain sum of the task losses."""
import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import LossBasedMethod


@MTL_METHODS.register_module(name='EW')
class EqualWeighting(LossBasedMethod):
    """``sum_t L_t``, the baseline every method is compared with.

    The same update as no method at all; useful as the reference of the
    benchmark and of ablations run through the same wrapper.
    """

    def loss_weights(self, losses: Tensor) -> Tensor:
        """Ones."""
        return torch.ones(len(losses), dtype=torch.float64)
