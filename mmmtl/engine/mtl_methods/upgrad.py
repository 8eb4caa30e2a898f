# Copyright (c) mmmtl contributors. All rights reserved.
"""UPGrad (Quinton and Rey, 2024) through TorchJD."""
from mmmtl.registry import MTL_METHODS
from .torchjd_method import TorchJDMethod


@MTL_METHODS.register_module(name='UPGrad')
class UPGrad(TorchJDMethod):
    """Unconflicting projection of gradients (`arXiv:2406.16232
    <https://arxiv.org/abs/2406.16232>`_): every ``g_t`` is projected onto
    the dual cone of all task gradients (the set of directions that
    conflict with none) and the projections are averaged. Each projection
    is a small quadratic program on the Gram matrix (quadprog).
    """

    def __init__(self) -> None:
        super().__init__('UPGradWeighting')
