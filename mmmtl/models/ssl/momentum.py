# Copyright (c) mmmtl contributors. All rights reserved.
"""Momentum (EMA) key encoder of the contrastive CompL heads."""
from typing import Mapping

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage


class MomentumEncoder(nn.Module):
    """A momentum copy of the shared feature path plus a projector.

    Wraps mmengine's :class:`~mmengine.model.ExponentialMovingAverage` (the
    utility mmpretrain's MoCo/DenseCL use) around
    ``nn.ModuleDict(backbone=..., [neck=...], [decode_head=...],
    projector=...)``. The copy is a registered sub-module, so checkpoints and
    ``resume`` carry it (and its ``steps`` counter); its parameters have
    ``requires_grad=False`` and get no gradient.

    ``momentum`` follows the paper/MoCo convention
    ``theta_k <- m * theta_k + (1 - m) * theta_q`` (0.999); mmengine's EMA
    takes ``1 - m``. The first :meth:`update` (``steps == 0``) copies the
    online weights, so the key encoder starts equal to the query encoder
    even when the online network was initialised (e.g. from a pretrained
    checkpoint) after this copy was made. Buffers (BatchNorm statistics)
    are copied from the online network at each update, as in mmpretrain.

    When to update: the heads call :meth:`update` at the start of each
    training forward, before computing keys, as mmpretrain's MoCo/DenseCL
    do. That is the same as updating right after every optimiser step, and
    it also works under ``MMDistributedDataParallel``, whose ``train_step``
    never calls the wrapped model's ``train_step``.

    Args:
        modules (Mapping[str, nn.Module]): The online modules to copy (the
            feature path and the projector).
        momentum (float): ``m`` in the formula above, in (0, 1).
    """

    def __init__(self, modules: Mapping[str, nn.Module],
                 momentum: float = 0.999):
        super().__init__()
        if not 0.0 < momentum < 1.0:
            raise ValueError(f'momentum must be in (0, 1) (paper convention, '
                             f'e.g. 0.999), got {momentum}')
        self.momentum = float(momentum)
        self.ema = ExponentialMovingAverage(
            nn.ModuleDict(dict(modules)), momentum=1.0 - self.momentum)

    @property
    def module(self) -> nn.ModuleDict:
        """The momentum copy (``backbone``, ..., ``projector``)."""
        return self.ema.module

    @property
    def steps(self) -> int:
        """How many updates were applied (0: not yet synchronised)."""
        return int(self.ema.steps)

    @torch.no_grad()
    def update(self, modules: Mapping[str, nn.Module]) -> None:
        """Apply one momentum update from the online ``modules``.

        Args:
            modules (Mapping[str, nn.Module]): The online modules, with the
                same keys and structure as at construction.
        """
        online = nn.ModuleDict(dict(modules))
        if list(online.keys()) != list(self.module.keys()):
            raise KeyError(f'momentum update got modules {list(online)}, '
                           f'the momentum encoder has {list(self.module)}')
        self.ema.update_parameters(online)

    def extra_repr(self) -> str:
        return f'momentum={self.momentum}'

