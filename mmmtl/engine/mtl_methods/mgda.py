# Copyright (c) mmmtl contributors. All rights reserved.
"""MGDA (Sener and Koltun, NeurIPS 2018) through TorchJD."""
from mmmtl.registry import MTL_METHODS
from .torchjd_method import TorchJDMethod


@MTL_METHODS.register_module()
class MGDA(TorchJDMethod):
    """Multiple-gradient descent (`arXiv:1810.04650
    <https://arxiv.org/abs/1810.04650>`_): the minimum-norm point of the
    convex hull of the task gradients, ``w = argmin_{w in simplex}
    |w^T G|^2``, by the Frank-Wolfe solver of the paper's Algorithm 2.

    Run by the wrapper in ``mode='representation'`` it is the paper's
    MGDA-UB (gradients with respect to the shared representation, an upper
    bound of the parameter-level objective).

    Args:
        epsilon (float): Frank-Wolfe stopping step size. Default: 0.001.
        max_iters (int): Frank-Wolfe iterations. Default: 100.
    """

    def __init__(self, epsilon: float = 0.001, max_iters: int = 100) -> None:
        super().__init__('MGDAWeighting', epsilon=epsilon,
                         max_iters=max_iters)
