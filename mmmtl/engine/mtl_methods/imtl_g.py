# Copyright (c) mmmtl contributors. All rights reserved.
"""IMTL-G (Liu et al., ICLR 2021) through TorchJD."""
from mmmtl.registry import MTL_METHODS
from .torchjd_method import TorchJDMethod


@MTL_METHODS.register_module(name='IMTLG')
class IMTLG(TorchJDMethod):
    """Impartial MTL, gradient part (`openreview IMEaEp9ySVU
    <https://openreview.net/forum?id=IMEaEp9ySVU>`_).

    Weights ``w`` (summing to 1) such that the update ``d = sum_t w_t g_t``
    has equal projections on every unit gradient ``u_t = g_t / |g_t|``.
    TorchJD computes ``w ∝ pinv(G G^T) diag(G G^T)^(1/2)``, the
    closed form of the paper extended to linearly dependent gradients.
    """

    def __init__(self) -> None:
        super().__init__('IMTLGWeighting')
