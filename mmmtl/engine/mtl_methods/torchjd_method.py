# Copyright (c) mmmtl contributors. All rights reserved.
"""Gradient-based methods whose weights come from TorchJD's weightings."""
import importlib
from typing import Dict

import torch
from torch import Tensor

from .base_mtl_method import GradientBasedMethod

TORCHJD_HINT = ('install the pinned TorchJD with `pip install -r '
                'requirements/runtime.txt` (torchjd[quadprog_projector])')


def torchjd_weighting(name: str, **kwargs):
    """Build ``torchjd.aggregation.<name>(**kwargs)`` with a clear error
    when TorchJD (or the QP solver it needs) is missing."""
    try:
        aggregation = importlib.import_module('torchjd.aggregation')
    except ImportError as err:
        raise ImportError(f'this multi-task method uses TorchJD, which is not '
                          f'installed ({err}): {TORCHJD_HINT}') from err
    return getattr(aggregation, name)(**kwargs)


class TorchJDMethod(GradientBasedMethod):
    """A gradient-based method backed by a TorchJD Gramian weighting.

    TorchJD (MIT licence, https://github.com/TorchJD/torchjd) implements the
    aggregators as "weightings" of the Gram matrix ``G G^T``, which is what
    the wrapper computes and all-reduces. The weighting runs in float64 on
    the CPU (``T x T`` numbers), inside a forked RNG seeded by ``seed`` and
    the step count, so methods that draw random numbers (PCGrad's task
    order) draw the same on every rank, leave the global RNG untouched and
    resume exactly.

    Args:
        weighting (str): Class name in ``torchjd.aggregation``.
        seed (int): Seed of the per-step RNG. Default: 0.
        **kwargs: Arguments of the weighting.
    """

    def __init__(self, weighting: str, seed: int = 0, **kwargs) -> None:
        super().__init__()
        self.weighting = torchjd_weighting(weighting, **kwargs)
        self.seed = int(seed)
        self.steps = 0

    def weights(self, gram: Tensor, losses: Tensor) -> Tensor:
        """The weighting of ``gram`` (float64, CPU)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + self.steps)
            weights = self.weighting(gram.detach().double().cpu())
        self.steps += 1
        return weights.double()

    def state_dict(self) -> Dict:
        """Tasks and the step count (the RNG stream position)."""
        return dict(super().state_dict(), steps=self.steps)

    def load_state_dict(self, state: Dict) -> None:
        """Restore the step count."""
        super().load_state_dict(state)
        self.steps = int(state.get('steps', 0))
