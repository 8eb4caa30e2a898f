"""Exact fixed-point sums: order-free and against exact fractions."""
import math
from fractions import Fraction

import pytest
import torch

from mmmtl.evaluation.statistics import (exact_zeros, from_fixed_point,
                                         to_fixed_point)


def test_fixed_point_sums_are_exact_and_order_free():
    g = torch.Generator().manual_seed(0)
    values = (torch.rand(300, generator=g, dtype=torch.float64) - 0.5) * \
        10.0**torch.randint(-8, 9, (300, ), generator=g)
    values = values.tolist() + [0.0, 3e30, -2.0**-70]
    forward, backward = exact_zeros(), exact_zeros()
    for v in values:
        forward += to_fixed_point(v)
    for v in reversed(values):
        backward += to_fixed_point(v)
    assert torch.equal(forward, backward)
    # truncation toward zero at 2^-64 per value, then one rounding
    truth = sum(Fraction(int(Fraction(v) * 2**64), 2**64) for v in values)
    assert float(from_fixed_point(forward)) == float(truth)
    assert float(from_fixed_point(forward)) == pytest.approx(
        math.fsum(values), rel=1e-15)
    both = from_fixed_point(to_fixed_point(torch.tensor([1.5, math.nan])))
    assert both[0] == 1.5 and math.isnan(both[1])
