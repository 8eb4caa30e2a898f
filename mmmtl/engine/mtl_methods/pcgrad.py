# Copyright (c) mmmtl contributors. All rights reserved.
"""PCGrad (Yu et al., NeurIPS 2020) through TorchJD."""
from mmmtl.registry import MTL_METHODS
from .torchjd_method import TorchJDMethod


@MTL_METHODS.register_module()
class PCGrad(TorchJDMethod):
    """Gradient surgery (`arXiv:2001.06782
    <https://arxiv.org/abs/2001.06782>`_, Algorithm 1).

    For every task ``i``, ``g_i`` is projected, in a random order of the
    other tasks, onto the normal plane of each ``g_j`` it conflicts with
    (``g_i . g_j < 0``); the update is the *sum* of the projected
    gradients. TorchJD's ``PCGradWeighting`` does this on the Gram matrix.

    Args:
        seed (int): Seed of the random task orders (identical on every
            rank, resumed exactly). Default: 0.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__('PCGradWeighting', seed=seed)
