# Copyright (c) mmmtl contributors. All rights reserved.
"""Equal weighting (the default loss weighting) as an explicit hook."""
from typing import List, Optional, Sequence

from mmseg.registry import HOOKS

from .base_loss_weighting_hook import BaseLossWeightingHook


@HOOKS.register_module()
class EqualWeightingHook(BaseLossWeightingHook):
    """Equal weights ``w_t = weight`` for every task, all training long.

    Without any loss-weighting hook a ``MultiTaskEncoderDecoder`` already
    uses its ``task_weights`` (1.0 by default); this hook makes the choice
    explicit in a config (e.g. the "EW" ablation), overrides manual weights,
    and logs the window means of the unweighted task losses next to the
    weights, like the other schemes, so runs can be compared on one plot.
    ``weight=1/T`` gives the paper's Eq. (2) form.

    Args:
        weight (float): The weight of every task (> 0). Default: 1.0.
        by_epoch (bool): Epoch windows for the loss logging; ``False`` for
            ``interval`` iterations.
        interval (int): Epochs or iterations per window.
        tasks (Sequence[str], optional): Default: the model's tasks.
    """

    def __init__(self,
                 weight: float = 1.0,
                 by_epoch: bool = True,
                 interval: int = 1,
                 tasks: Optional[Sequence[str]] = None):
        super().__init__(by_epoch=by_epoch, interval=interval, tasks=tasks)
        if weight <= 0:
            raise ValueError(f'EqualWeightingHook.weight must be > 0, got '
                             f'{weight}')
        self.weight = float(weight)

    def compute_weights(self, history: List[List[float]]) -> List[float]:
        """``weight`` for every task."""
        return [self.weight] * len(self.tasks)
