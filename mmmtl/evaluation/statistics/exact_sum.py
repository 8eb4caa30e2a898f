# Copyright (c) mmmtl contributors. All rights reserved.
"""Order-independent sums of floats in int64 fixed point.

Float64 addition is not associative: a dataset summed image by image on one
process and the same images summed per rank and then across ranks differ in
the last bits. To make the metrics of a distributed evaluation equal **bit
for bit** to those of a single process (and independent of the number of
processes and of the sampler's order), the float sums of the task
statistics are kept as fixed-point integers, whose addition is exact and
associative:

* a value ``x`` is represented by ``round_toward_zero(x * 2^64)`` split into
  ``NUM_LIMBS = 6`` signed limbs of 32 bits stored in int64
  (``x = sum_i limb_i * 2^(32 i - 64)``), i.e. an absolute resolution of
  ``2^-64`` (5e-20) per added value and a range of ``+-2^128``;
* each added value contributes less than ``2^32`` to every limb, so 2^31
  additions cannot overflow a limb; carries are resolved with Python
  integers when the sum is read;
* a last slot counts non-finite (or out-of-range) values; a sum that
  received one reads as ``nan``.

The state is a plain int64 tensor of shape ``(*shape, NUM_LIMBS + 1)``, so it
can be ``all_reduce``-d with ``op='sum'`` like every other statistic.
"""
from typing import Union

import torch
from torch import Tensor

LIMB_BITS = 32
NUM_LIMBS = 6
FRAC_BITS = 64
_MASK = (1 << LIMB_BITS) - 1
_MAX_BITS = LIMB_BITS * NUM_LIMBS - FRAC_BITS  # |x| < 2^128


def exact_zeros(*shape: int) -> Tensor:
    """Zero fixed-point sums: int64 ``(*shape, NUM_LIMBS + 1)``."""
    return torch.zeros(*shape, NUM_LIMBS + 1, dtype=torch.int64)


def to_fixed_point(values: Union[Tensor, float]) -> Tensor:
    """Fixed-point limbs of ``values``.

    Args:
        values (Tensor | float): Float values of any shape ``S``.

    Returns:
        Tensor: int64 ``(*S, NUM_LIMBS + 1)``: the limbs (truncated toward
        zero at ``2^-64``) and a last slot that is 1 for non-finite values or
        values of magnitude ``>= 2^128``.
    """
    v = values.detach().double() if isinstance(values, Tensor) else \
        torch.tensor(values, dtype=torch.float64)
    finite = torch.isfinite(v)
    x = torch.where(finite, v, torch.zeros_like(v))
    mantissa, exponent = torch.frexp(x.abs())  # |x| = mantissa * 2^exponent
    m = (mantissa * 2.0**53).long()  # exact 53-bit integer
    # fixed-point integer X = m * 2^s
    s = exponent.long() - 53 + FRAC_BITS
    bad = ~finite | (exponent.long() > _MAX_BITS)
    limbs = []
    for i in range(NUM_LIMBS):
        shift = LIMB_BITS * i - s  # limb i holds bits shift..shift+31 of m
        right = torch.bitwise_right_shift(m, shift.clamp(0, 63))
        k = (-shift).clamp(0, LIMB_BITS)  # left shift when shift < 0
        low = torch.bitwise_left_shift(torch.ones_like(m), LIMB_BITS - k) - 1
        left = torch.bitwise_left_shift(m & low, k)
        limbs.append(torch.where(shift >= 0, right, left) & _MASK)
    out = torch.stack(limbs, dim=-1)
    out = torch.where((x < 0)[..., None], -out, out)
    out = torch.where(bad[..., None], torch.zeros_like(out), out)
    return torch.cat([out, bad.long()[..., None]], dim=-1)


def from_fixed_point(limbs: Tensor) -> Tensor:
    """Float64 values of fixed-point sums (correctly rounded).

    Args:
        limbs (Tensor): int64 ``(*S, NUM_LIMBS + 1)`` as
            :func:`to_fixed_point` returns, possibly summed.

    Returns:
        Tensor: float64 ``S``; ``nan`` where a non-finite value was added.
    """
    shape = limbs.shape[:-1]
    rows = limbs.reshape(-1, NUM_LIMBS + 1).tolist()
    out = []
    for row in rows:
        if row[-1] != 0:
            out.append(float('nan'))
            continue
        total = sum(int(limb) << (LIMB_BITS * i)
                    for i, limb in enumerate(row[:-1]))
        out.append(total / (1 << FRAC_BITS))
    return torch.tensor(out, dtype=torch.float64).reshape(shape)
