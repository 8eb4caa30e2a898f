# Copyright (c) mmmtl contributors. All rights reserved.
"""Numerical precision helpers: float32 regions under autocast, TF32.

Mixed precision (``torch.autocast`` with float16 or bfloat16, MMEngine's
``AmpOptimWrapper``) runs convolutions and matrix products in half precision.
Sums over many positions (an affinity diffusion adds ``H * W`` products),
norms and loss reductions can overflow float16 (largest value 65504) or lose
most of their digits in bfloat16 (8 significant bits), so the code that
computes them runs in float32: :func:`float32_region` disables autocast for
the tensors' device and :func:`upcast` turns half tensors into float32
(float64 stays float64, so double-precision equivalence tests are exact).

TF32 (NVIDIA Ampere and later) rounds the inputs of float32 matrix products
and convolutions to 10 mantissa bits. PyTorch enables it for cuDNN
convolutions by default, so two mathematically equal float32 computations on
a GPU (e.g. CTAL's dense and memory-efficient affinity paths) can differ by
about 1e-4 relative; :func:`tf32_disabled` switches it off for exact
comparisons.
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: Dtypes that autocast computes in and :func:`upcast` promotes to float32.
HALF_DTYPES = (torch.float16, torch.bfloat16)


def upcast(*tensors: Optional[Tensor]) -> Tuple[Optional[Tensor], ...]:
    """Promote float16 / bfloat16 tensors to float32.

    Args:
        *tensors (Tensor | None): Tensors; ``None`` and tensors of other
            dtypes (float32, float64, integers, bool) are returned as they
            are.

    Returns:
        tuple: The tensors, in order.
    """
    return tuple(
        t.float() if t is not None and t.dtype in HALF_DTYPES else t
        for t in tensors)


@contextmanager
def float32_region(device: torch.device) -> Iterator[None]:
    """Disable autocast for ``device``'s type inside the ``with`` block.

    Combine with :func:`upcast`: autocast only changes the dtype of the
    operations it lists, so a block that must compute in float32 needs both
    (inputs already in float16 stay float16 without autocast).

    Args:
        device (torch.device): Device of the tensors computed in the block.
    """
    device_type = torch.device(device).type
    if not torch.amp.is_autocast_available(device_type):
        yield
        return
    with torch.autocast(device_type, enabled=False):
        yield


def l2_normalize(x: Tensor, dim: int, eps: float = 1e-12) -> Tensor:
    """:func:`torch.nn.functional.normalize` computed in float32 for half
    inputs (and returned in float32), also under autocast.

    The squared norm of a 64-channel float16 vector overflows for entries
    above about 32; in bfloat16 it keeps 8 significant bits.

    Args:
        x (Tensor): Any shape.
        dim (int): Dimension normalised to unit L2 norm.
        eps (float): Lower bound of the norm.

    Returns:
        Tensor: ``x / max(||x||, eps)`` along ``dim``.
    """
    (x, ) = upcast(x)
    with float32_region(x.device):
        return F.normalize(x, p=2, dim=dim, eps=eps)


def _has_fp32_precision_api() -> bool:
    """Whether this PyTorch has ``torch.backends.*.fp32_precision`` (2.9+).
    """
    return hasattr(torch.backends.cuda.matmul, 'fp32_precision') and \
        hasattr(torch.backends.cudnn, 'conv')


@contextmanager
def tf32_disabled() -> Iterator[None]:
    """Compute float32 matrix products and convolutions in full float32
    (no TF32) inside the ``with`` block, on every CUDA device.

    Uses ``torch.backends.{cuda.matmul,cudnn.conv}.fp32_precision = 'ieee'``
    where PyTorch has it (mixing it with the legacy ``allow_tf32`` flags is an
    error there), else the legacy flags; the previous settings are restored
    on exit. Without a GPU nothing changes numerically.
    """
    if _has_fp32_precision_api():
        matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn.conv
        saved = (matmul.fp32_precision, conv.fp32_precision)
        matmul.fp32_precision = conv.fp32_precision = 'ieee'
        try:
            yield
        finally:
            matmul.fp32_precision, conv.fp32_precision = saved
        return
    saved = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = saved
