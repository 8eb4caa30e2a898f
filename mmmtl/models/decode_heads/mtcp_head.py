# Copyright (c) mmmtl contributors. All rights reserved.
"""MT-CP decode head: task decoders, coherence fusion and trace-back."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.layers.coherence_fusion import CoherenceFusionModule
from mmmtl.models.layers.dynamic_pyramid_fusion import DynamicPyramidFusion
from mmmtl.models.layers.spatial_refinement import SpatialRefinementModule
from mmmtl.models.layers.window_transformer_decoder import \
    WindowTransformerDecoder
from mmmtl.structures import HeadOutputs
from .base_multitask_head import BaseMultiTaskHead, resize_concat


def prediction_layer(channels: int, out_channels: int, norm_cfg: dict,
                     act_cfg: dict) -> nn.Module:
    """1x1 conv-norm-act then a 1x1 conv to the task's outputs (the
    released code's projection heads)."""
    return nn.Sequential(
        ConvModule(channels, channels, 1, norm_cfg=norm_cfg,
                   act_cfg=act_cfg),
        nn.Conv2d(channels, out_channels, 1))


class LightPixelDecoder(nn.Module):
    """MT-CP's default shared representation without mmdet: the inputs
    upsampled to the finest one, concatenated, then a 1x1 conv-norm-act.

    Args:
        in_channels (int): Total channels of the inputs.
        channels (int): Output channels.
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation config.
        align_corners (bool): Interpolation setting.
    """

    def __init__(self, in_channels: int, channels: int, norm_cfg: dict,
                 act_cfg: dict, align_corners: bool):
        super().__init__()
        self.align_corners = align_corners
        self.proj = ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                               act_cfg=act_cfg)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """[(B, C_i, H_i, W_i)] -> (B, channels, H_0, W_0)."""
        return self.proj(resize_concat(inputs, self.align_corners))


@MODELS.register_module()
class MTCPHead(BaseMultiTaskHead):
    """MT-CP: Multi-Task Coherence and Prioritization (Fontana et al.).

    Pipeline for ``T`` tasks (strides for a stride-4 shared input)::

        shared R (1/4)  = 1x1 conv-norm-act(resize_concat(inputs))
        per task t:
          X_t^1, X_t^2, X_t^3 = WindowTransformerDecoder_t(R)   # 1/4,1/8,1/16
          X_t = DynamicPyramidFusion_t(X_t^1..3)                # 1/4
        per task t:
          H_t, l_t = CFM_t(X_t, [X_u for u != t])                # 1/4
        per task t (trace-back, coarse to fine):
          p1, n1 = SRM_t^1(H_t, X_t^3)    -> intermediate pred  (1/16)
          p2, n2 = SRM_t^2(n1,  X_t^2)    -> intermediate pred  (1/8)
          p3, _  = SRM_t^3(n2,  X_t^1)    -> final prediction   (1/4)

    The shared representation ``R`` is, by default, a light "pixel
    decoder" over the selected backbone/neck levels (upsample + concatenate
    + 1x1 conv-norm-act), so any backbone works without extra dependencies.
    ``shared_representation=dict(type='Mask2FormerRepresentation', ...)``
    uses the paper's instead: a Mask2Former's pixel embeddings weighted by
    its summed mask predictions (needs mmdet; see
    :class:`~mmmtl.models.layers.Mask2FormerRepresentation`), fed with the
    selected backbone levels.

    Outputs: ``preds`` (final, from the last SRM), ``feats`` (the last SRM's
    prediction features, stride ``feat_stride``), ``deep_supervision``
    ``{'srm1': ..., 'srm2': ...}`` (the 1/16 and 1/8 intermediate
    predictions, training only, each trained with its own task's loss) and
    ``extra_losses`` ``{'loss_coherence': ...}`` (training only).

    Loss weights: every intermediate prediction is weighted by the base
    class's single ``deep_supervision_weight``, here 0.5 by default (the
    released code's ``/2``; the paper's Eq. (7) sums them with weight 1).
    The coherence loss is ``coherence_loss_weight`` times the mean over
    tasks of the CFM cosine distances.

    Ablations (paper Table 3): ``use_cfm=False`` uses ``H_t = X_t``;
    ``use_srm=False`` predicts directly from ``H_t`` (no intermediate
    predictions).

    Args:
        channels (int): Width ``C`` of the shared representation, the first
            decoder stage and the CFM (256 in the paper).
        depths (Sequence[int]): Blocks per decoder stage, (1, 2, 1).
        num_heads (Sequence[int]): Heads per decoder stage, (2, 2, 2).
        window_size (int): Decoder window size (7 as released).
        mlp_ratio (float): Decoder FFN ratio.
        drop_path_rate (float): Decoder stochastic depth.
        use_cfm (bool): Use the Coherence Fusion Modules (needs >= 2 tasks).
        use_srm (bool): Use the Spatial Refinement Modules (trace-back).
        coherence_loss (bool): Add the CFM cosine coherence loss.
        coherence_loss_weight (float): Its weight (>= 0).
        cfm_cfg (dict, optional): Extra :class:`CoherenceFusionModule`
            arguments: ``attn_scale``, ``residual``, ``attn_downsample``,
            ``downsample_queries``, ``main_branch_act``.
        cbam_cfg (dict, optional): Extra ``CBAM`` arguments (``reduction``,
            ``spatial_kernel_size``, ``spatial_norm_cfg``) of the CFMs and
            SRMs.
        norm_cfg (dict): Norm of the conv layers.
        act_cfg (dict): Activation of the conv layers.
        feat_stride (int): Stride of the finest selected input.
        deep_supervision_weight (float): Weight of each intermediate
            prediction's loss. Default: 0.5.
        shared_representation (dict, optional): Config of a module mapping
            the selected inputs to ``R`` (B, channels, H_0, W_0), e.g.
            ``Mask2FormerRepresentation``; ``None``: the light pixel decoder.
        **kwargs: See :class:`BaseMultiTaskHead`.
    """

    def __init__(self,
                 channels: int = 256,
                 depths: Sequence[int] = (1, 2, 1),
                 num_heads: Sequence[int] = (2, 2, 2),
                 window_size: int = 7,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 use_cfm: bool = True,
                 use_srm: bool = True,
                 coherence_loss: bool = True,
                 coherence_loss_weight: float = 1.0,
                 cfm_cfg: Optional[dict] = None,
                 cbam_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 feat_stride: int = 4,
                 deep_supervision_weight: float = 0.5,
                 shared_representation: Optional[dict] = None,
                 **kwargs):
        super().__init__(deep_supervision_weight=deep_supervision_weight,
                         **kwargs)
        if use_cfm and len(self.tasks) < 2:
            raise ValueError('MTCPHead.use_cfm=True needs at least 2 tasks '
                             f'(got tasks={self.tasks}); set use_cfm=False '
                             'for a single task')
        if coherence_loss_weight < 0:
            raise ValueError('MTCPHead.coherence_loss_weight must be >= 0, '
                             f'got {coherence_loss_weight}')
        unknown = set(cfm_cfg or {}) - {
            'attn_scale', 'residual', 'attn_downsample', 'downsample_queries',
            'main_branch_act'
        }
        if unknown:
            raise ValueError(f'MTCPHead.cfm_cfg has unknown keys '
                             f'{sorted(unknown)}; expected attn_scale, '
                             'residual, attn_downsample, downsample_queries, '
                             'main_branch_act')
        in_channels = self.in_channels
        total_in = in_channels if isinstance(in_channels, int) else sum(
            in_channels)
        self.channels = channels
        self.feat_stride = feat_stride
        self.use_cfm = use_cfm
        self.use_srm = use_srm
        self.coherence_loss = use_cfm and coherence_loss
        self.coherence_loss_weight = coherence_loss_weight
        self.representation = self._build_representation(
            shared_representation, total_in, norm_cfg, act_cfg)
        self.decoders = nn.ModuleDict({
            t: WindowTransformerDecoder(
                channels, depths=depths, num_heads=num_heads,
                window_size=window_size, mlp_ratio=mlp_ratio,
                drop_path_rate=drop_path_rate)
            for t in self.tasks
        })
        stage_channels = self.decoders[self.tasks[0]].out_channels
        self.num_stages = len(stage_channels)
        self.pyramid_fusions = nn.ModuleDict({
            t: DynamicPyramidFusion(stage_channels, channels, norm_cfg,
                                    act_cfg, self.align_corners)
            for t in self.tasks
        })
        if use_cfm:
            self.cfms = nn.ModuleDict({
                t: CoherenceFusionModule(
                    channels, len(self.tasks) - 1, cbam_cfg=cbam_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg,
                    with_coherence_loss=self.coherence_loss,
                    **(cfm_cfg or {}))
                for t in self.tasks
            })
        num_preds = self.num_stages if use_srm else 1
        if use_srm:
            self.srms = nn.ModuleDict({
                t: self._build_trace_back(stage_channels, cbam_cfg, norm_cfg,
                                          act_cfg)
                for t in self.tasks
            })
        # predictors[t][j]: j-th prediction, coarse to fine; the last is final
        self.predictors = nn.ModuleDict({
            t: nn.ModuleList([
                prediction_layer(channels, self.out_channels[t], norm_cfg,
                                 act_cfg) for _ in range(num_preds)
            ])
            for t in self.tasks
        })

    def _build_representation(self, cfg: Optional[dict], total_in: int,
                              norm_cfg: dict, act_cfg: dict) -> nn.Module:
        """The module computing ``R`` from the selected inputs."""
        if cfg is None:
            return LightPixelDecoder(total_in, self.channels, norm_cfg,
                                     act_cfg, self.align_corners)
        module = MODELS.build(cfg)
        in_channels = [self.in_channels] if isinstance(
            self.in_channels, int) else list(self.in_channels)
        expected_in = getattr(module, 'in_channels', in_channels)
        if list(expected_in) != in_channels:
            raise ValueError(
                f'MTCPHead: in_channels {in_channels} differ from the '
                f'shared representation\'s in_channels {list(expected_in)}')
        if getattr(module, 'out_channels', self.channels) != self.channels:
            raise ValueError(
                f'MTCPHead: channels={self.channels} must equal the shared '
                f'representation\'s out_channels ({module.out_channels})')
        return module

    def _build_trace_back(self, stage_channels: List[int],
                          cbam_cfg: Optional[dict], norm_cfg: dict,
                          act_cfg: dict) -> nn.ModuleList:
        """SRMs from the coarsest stage to the finest."""
        srms = nn.ModuleList()
        in_ch = self.channels
        coarse_to_fine = stage_channels[::-1]
        for j, skip_ch in enumerate(coarse_to_fine):
            last = j == len(coarse_to_fine) - 1
            srms.append(SpatialRefinementModule(
                in_ch, skip_ch, self.channels,
                next_channels=None if last else skip_ch,
                cbam_cfg=cbam_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                align_corners=self.align_corners))
            in_ch = skip_ch
        return srms

    # ------------------------------------------------------------------ #
    def shared_representation(self, inputs: Sequence[Tensor]) -> Tensor:
        """(B, channels, H_0, W_0) shared features at the finest input."""
        return self.representation(self._select_inputs(inputs))

    def coherence_fusion(self, task_feats: Dict[str, Tensor]
                         ) -> Tuple[Dict[str, Tensor], List[Tensor]]:
        """Run every task's CFM; returns ``H_t`` and the coherence losses."""
        fused, losses = {}, []
        for t in self.tasks:
            aux = [task_feats[u] for u in self.tasks if u != t]
            fused[t], loss = self.cfms[t](task_feats[t], aux)
            if loss is not None:
                losses.append(loss)
        return fused, losses

    def trace_back(self, task: str, h: Tensor, stages: List[Tensor]
                   ) -> List[Tensor]:
        """Prediction features of the task's SRM chain, coarse to fine.

        Args:
            task (str): Task name.
            h (Tensor): (B, C, H, W) CFM output.
            stages (list[Tensor]): Decoder stage outputs, finest first.

        Returns:
            list[Tensor]: (B, C, H_k, W_k) features, coarsest first.
        """
        feats = []
        x = h
        for srm, skip in zip(self.srms[task], stages[::-1]):
            pred_feat, x = srm(x, skip)
            feats.append(pred_feat)
        return feats

    def forward(self, inputs: Sequence[Tensor]) -> HeadOutputs:
        """Decode every task.

        Args:
            inputs (Sequence[Tensor]): Backbone/neck features
                (B, C_i, H_i, W_i).

        Returns:
            HeadOutputs: ``preds`` (B, C_t, H_0, W_0), ``feats``
            (B, channels, H_0, W_0), ``feat_strides``; in training also
            ``deep_supervision`` (``srm1`` at 4x, ``srm2`` at 2x the stride
            of ``preds`` for 3 stages) and ``extra_losses``.
        """
        shared = self.shared_representation(inputs)
        stages = {t: self.decoders[t](shared) for t in self.tasks}
        task_feats = {t: self.pyramid_fusions[t](stages[t])
                      for t in self.tasks}
        coherence = []
        if self.use_cfm:
            task_feats, coherence = self.coherence_fusion(task_feats)
        preds, feats = {}, {}
        deep_sup: Dict[str, Dict[str, Tensor]] = {}
        for t in self.tasks:
            chain = self.trace_back(t, task_feats[t], stages[t]) \
                if self.use_srm else [task_feats[t]]
            feats[t] = chain[-1]
            preds[t] = self.predictors[t][-1](chain[-1])
            if self.training:
                for j, f in enumerate(chain[:-1]):
                    deep_sup.setdefault(f'srm{j + 1}', {})[t] = \
                        self.predictors[t][j](f)
        outputs = HeadOutputs(
            preds=preds, feats=feats,
            feat_strides={t: self.feat_stride for t in self.tasks})
        if self.training:
            if deep_sup:
                outputs.deep_supervision = deep_sup
            if coherence:
                outputs.extra_losses = dict(
                    loss_coherence=self.coherence_loss_weight *
                    torch.stack(coherence).mean())
        return outputs
