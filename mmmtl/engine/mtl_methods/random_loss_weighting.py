# Copyright (c) mmmtl contributors. All rights reserved.
"""Random loss weighting (Lin et al., TMLR 2022)."""
from typing import Dict

import torch
from torch import Tensor

from mmmtl.registry import MTL_METHODS
from .base_mtl_method import LossBasedMethod


@MTL_METHODS.register_module(name='RLW')
class RandomLossWeighting(LossBasedMethod):
    """RLW: ``sum_t w_t L_t`` with ``w = softmax(e)``, ``e ~ N(0, I)`` drawn
    anew every iteration (`arXiv:2111.10603
    <https://arxiv.org/abs/2111.10603>`_, the normal-softmax variant).

    The draws come from the method's own generator, seeded by ``seed``: every
    rank draws the same weights, the global RNG is left alone, and the
    generator state is checkpointed so a resumed run draws what an
    uninterrupted one would.

    Args:
        seed (int): Seed of the generator. Default: 0.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.generator = torch.Generator().manual_seed(int(seed))

    def loss_weights(self, losses: Tensor) -> Tensor:
        """Fresh random weights ``softmax(N(0, I))``."""
        noise = torch.randn(len(losses), generator=self.generator,
                            dtype=torch.float64)
        return torch.softmax(noise, dim=0)

    def state_dict(self) -> Dict:
        """Tasks and the generator state."""
        return dict(super().state_dict(),
                    generator=self.generator.get_state())

    def load_state_dict(self, state: Dict) -> None:
        """Restore the generator."""
        super().load_state_dict(state)
        self.generator.set_state(state['generator'])
