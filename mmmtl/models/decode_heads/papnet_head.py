# Copyright (c) mmmtl contributors. All rights reserved.
"""PAP-Net decode head."""
from typing import Dict, Optional, Union

from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.affinity_propagation import TaskAffinityPropagation
from .padnet_head import SingleScaleDistillationHead


@MODELS.register_module()
class PAPNetHead(SingleScaleDistillationHead):
    """PAP-Net (Zhang et al., CVPR 2019) as a multi-task decode head.

    Single-scale task-prediction distillation (see
    :class:`SingleScaleDistillationHead` in
    :mod:`mmmtl.models.decode_heads.padnet_head`) whose cross-task step is
    :class:`~mmmtl.models.layers.affinity_propagation.TaskAffinityPropagation`:
    per-task cosine affinity matrices (HW x HW) combined by a learnt
    weighted sum per target task and diffused by matrix multiplication,
    blended with ``gamma``. No parameter depends on the resolution.

    Args:
        gamma (float): Blending factor (0.05, as the CTAL paper).
        scale_by_hw (bool): Scale the diffused features by ``1 / HW``.
        memory_efficient (bool): Anchor-chunked affinity path.
        chunk_size (int | str): Anchor rows per block of the
            memory-efficient path, or ``'auto'`` to size the block from a
            memory budget (see ``mmmtl.models.layers.affinity``).
        **kwargs: See :class:`SingleScaleDistillationHead`.
    """

    def __init__(self,
                 gamma: float = 0.05,
                 scale_by_hw: bool = True,
                 memory_efficient: bool = False,
                 chunk_size: Union[int, str] = 256,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.propagation = TaskAffinityPropagation(
            self.tasks, gamma=gamma, scale_by_hw=scale_by_hw,
            memory_efficient=memory_efficient, chunk_size=chunk_size)

    def distill(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Affinity propagation across tasks."""
        return self.propagation(feats)
