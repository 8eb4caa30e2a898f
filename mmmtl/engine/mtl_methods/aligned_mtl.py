# Copyright (c) mmmtl contributors. All rights reserved.
"""Aligned-MTL (Senushkin et al., CVPR 2023) through TorchJD."""
from mmmtl.registry import MTL_METHODS
from .torchjd_method import TorchJDMethod


@MTL_METHODS.register_module(name='AlignedMTL')
class AlignedMTL(TorchJDMethod):
    """Independent component alignment (`arXiv:2305.19000
    <https://arxiv.org/abs/2305.19000>`_, Algorithm 1).

    The gradient matrix is made orthogonal with equal singular values
    (its condition number becomes 1) by the balance transformation
    ``B = sqrt(s) V Sigma^(-1) V^T`` of the Gram matrix's eigen-decomposition
    ``G G^T = V Sigma^2 V^T``; the update is ``(B p)^T G`` with the
    preference ``p = 1/T``.

    Args:
        scale_mode (str): ``s``: ``'min'`` (smallest eigenvalue, the
            paper), ``'median'`` or ``'rmse'`` (mean eigenvalue).
    """

    def __init__(self, scale_mode: str = 'min') -> None:
        if scale_mode not in ('min', 'median', 'rmse'):
            raise ValueError(f"AlignedMTL.scale_mode must be 'min', 'median' "
                             f"or 'rmse', got {scale_mode!r}")
        super().__init__('AlignedMTLWeighting', scale_mode=scale_mode)
