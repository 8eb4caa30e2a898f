# Copyright (c) mmmtl contributors. All rights reserved.
"""PAD-Net's multi-modal distillation (element-wise-multiplication attention).
"""
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor


class MultiModalDistillation(BaseModule):
    """Cross-task distillation by element-wise-multiplication attention.

    For every target task ``t`` (PAD-Net, Xu et al. CVPR 2018, its
    attention-guided variant; also MTI-Net's per-scale distillation)::

        F_t^o = F_t + sum_{j != t} sigmoid(Wa_jt * F_j) (.) (Wf_jt * F_j)

    with ``Wa_jt``, ``Wf_jt`` 3x3 convolutions (with bias) for every ordered
    task pair. With one task the module is the identity.

    Args:
        tasks (Sequence[str]): Tasks.
        channels (int): Channels of every task's features.
    """

    def __init__(self, tasks: Sequence[str], channels: int,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.tasks = list(tasks)
        self.pairs = [(src, dst) for dst in self.tasks for src in self.tasks
                      if src != dst]
        self.attention = nn.ModuleDict({
            f'{s}_to_{d}': nn.Conv2d(channels, channels, 3, padding=1)
            for s, d in self.pairs
        })
        self.message = nn.ModuleDict({
            f'{s}_to_{d}': nn.Conv2d(channels, channels, 3, padding=1)
            for s, d in self.pairs
        })

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """task -> (B, C, H, W) -> task -> (B, C, H, W) distilled."""
        out = {t: feats[t] for t in self.tasks}
        for src, dst in self.pairs:
            key = f'{src}_to_{dst}'
            out[dst] = out[dst] + self.attention[key](feats[src]).sigmoid() \
                * self.message[key](feats[src])
        return out
