# Copyright (c) mmmtl contributors. All rights reserved.
"""What a multi-task decode head's ``forward`` returns."""
from dataclasses import dataclass, field
from typing import Dict, Union

from torch import Tensor


@dataclass(eq=False)  # no field-wise ==: tensors have no truth value
class HeadOutputs:
    """Outputs of :meth:`BaseMultiTaskHead.forward
    <mmmtl.models.decode_heads.BaseMultiTaskHead.forward>`.

    Produced by every multi-task head and read by the head's own losses,
    the segmentor (inference), auxiliary losses (CCR reads ``feats`` and
    ``feat_strides``) and the CompL self-supervised heads (``feats`` of a
    task). Shapes use ``B`` for the batch, ``C_t`` for the task's output
    channels (:attr:`BaseMultiTaskHead.out_channels`), ``C`` for feature
    channels; the spatial size depends on the head (its stride w.r.t. the
    input).

    Attributes:
        preds (dict[str, Tensor]): task -> (B, C_t, h, w) final logits
            (discrete and binary tasks) or values (continuous tasks), at the
            head's output resolution (resized by the head's ``predict`` and
            loss, not here). One entry per task of the head.
        feats (dict[str, Tensor]): task -> (B, C, h_f, w_f) task features
            the final prediction is computed from (several tasks may share
            one tensor). Empty when the head exposes none.
        feat_strides (dict[str, int | float]): task -> stride of
            ``feats[task]`` w.r.t. the input image (e.g. 4 for features at a
            quarter of the input size).
        deep_supervision (dict[str, dict[str, Tensor]]): name -> task ->
            (B, C_t, h, w) intermediate predictions supervised like
            ``preds`` (training only; empty in eval mode). Each gives the
            loss ``'<loss_name>_<name>'`` of the task.
        extra_losses (dict[str, Tensor]): name -> scalar loss the head
            computes itself (e.g. MT-CP's ``loss_coherence``), added to the
            segmentor's losses as ``head.<name>`` (training only).
    """

    preds: Dict[str, Tensor]
    feats: Dict[str, Tensor] = field(default_factory=dict)
    feat_strides: Dict[str, Union[int, float]] = field(default_factory=dict)
    deep_supervision: Dict[str, Dict[str, Tensor]] = field(
        default_factory=dict)
    extra_losses: Dict[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        no_stride = sorted(set(self.feats) - set(self.feat_strides))
        if no_stride:
            raise ValueError(f'HeadOutputs.feats has features of {no_stride} '
                             f'without a feat_strides entry (strides given: '
                             f'{sorted(self.feat_strides)})')
