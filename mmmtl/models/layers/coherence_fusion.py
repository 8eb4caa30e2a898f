# Copyright (c) mmmtl contributors. All rights reserved.
"""MT-CP's Coherence Fusion Module (CFM) and its cosine coherence loss."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor

from mmmtl.utils.precision import float32_region, upcast
from .cbam import CBAM


def cosine_coherence_loss(x: Tensor, y: Tensor, eps: float = 1e-8) -> Tensor:
    """Mean per-pixel cosine distance ``1 - cos(x_p, y_p)``.

    Args:
        x (Tensor): (B, C, H, W) features.
        y (Tensor): (B, C, H, W) features.
        eps (float): Guards the norms (a zero vector has cosine 0).

    Returns:
        Tensor: Scalar in [0, 2]; 0 iff every pixel's vectors point the same
        way.
    """
    if x.shape != y.shape:
        raise ValueError(f'cosine_coherence_loss needs equal shapes, got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    x, y = upcast(x, y)  # norms and the mean over pixels in float32
    with float32_region(x.device):
        return (1.0 - F.cosine_similarity(x, y, dim=1, eps=eps)).mean()


def cross_task_attention(query: Tensor, key: Tensor, value: Tensor,
                         scale: float = 1.0) -> Tensor:
    """``softmax(scale * q^T k)`` over key positions applied to ``value``.

    Uses :func:`torch.nn.functional.scaled_dot_product_attention` (its
    memory-efficient / flash kernels avoid materialising the
    ``N_q x N_k`` matrix on GPUs); the result equals the explicit
    ``softmax(scale * Q K^T) V``.

    Args:
        query (Tensor): (B, C, N_q) queries.
        key (Tensor): (B, C, N_k) keys.
        value (Tensor): (B, C_v, N_k) values.
        scale (float): Multiplier of the logits (1.0: none, as released).

    Returns:
        Tensor: (B, C_v, N_q).
    """
    # float32 under autocast: unscaled logits (scale 1) of C-dim features
    # lose the softmax's ordering in bfloat16 and can overflow float16
    query, key, value = upcast(query, key, value)
    q = query.transpose(1, 2).unsqueeze(1)
    k = key.transpose(1, 2).unsqueeze(1)
    v = value.transpose(1, 2).unsqueeze(1)
    with float32_region(q.device):
        out = F.scaled_dot_product_attention(q, k, v, scale=scale)
    return out.squeeze(1).transpose(1, 2)


class CBAMBranch(nn.Sequential):
    """CBAM -> norm (-> activation): the CFM's per-representation modules.

    Args:
        channels (int): Channels (preserved).
        cbam_cfg (dict): Extra :class:`CBAM` arguments.
        norm_cfg (dict): Norm config.
        act_cfg (dict, optional): Activation config; ``None`` for none.
    """

    def __init__(self, channels: int, cbam_cfg: dict, norm_cfg: dict,
                 act_cfg: Optional[dict]):
        layers = [CBAM(channels, **cbam_cfg),
                  build_norm_layer(norm_cfg, channels)[1]]
        if act_cfg is not None:
            layers.append(build_activation_layer(act_cfg))
        super().__init__(*layers)


class CoherenceFusionModule(BaseModule):
    """Coherence Fusion Module of MT-CP (Fontana et al., Sec. 3.3).

    For a main task with features ``X_main`` and the other tasks' features
    ``X_1..X_A`` (all (B, C, H, W)):

    1. gated concatenation ``X_aux = cat_a(sigmoid(g_a(X_a)) * X_a)`` with
       per-pixel (1x1 conv) gates ``g_a``;
    2. a 1x1 conv + activation reducing ``X_aux`` from ``A * C`` to ``C``
       channels (the released code has this fusion conv, keeping ``A * C``;
       we reduce to ``C`` so the cosine loss compares equal-width vectors
       and the attention's dot products are ``C``-dimensional);
    3. ``X'_main = ReLU(BN(CBAM(X_main)))`` as the paper writes it (the
       released code ends this branch at BN, without the ReLU:
       ``main_branch_act=False``); the auxiliary representation goes through
       two CBAM -> BN -> ReLU branches, the query branch ``X'_aux`` and the
       key branch (two branches as in the released code);
    4. coherence loss ``mean_p(1 - cos(X'_main[p], X'_aux[p]))``
       (the paper's cosine distance; absent from the released code);
    5. fusion by matrix multiplication, as released:
       ``F = X'_main softmax(s * Q^T K)^T``, i.e. every position gathers the
       main-task features of the positions its auxiliary query matches;
       ``s = 1`` (no ``1/sqrt(C)`` scaling) and no residual by default;
    6. output ``H = BN(CBAM(F))`` (``+ X_main`` when ``residual``).

    The attention is (HW x HW) per image, the memory hot spot at 1/4 of a
    480x640 input (19,200 positions: 1.5 GB per image in fp32 when
    materialised). ``attn_downsample = s > 1`` average-pools keys and values
    by ``s`` (an HW x HW/s^2 attention; queries stay at full resolution), and
    with ``downsample_queries`` also the queries, the output then being
    upsampled bilinearly (HW/s^2 x HW/s^2).

    Args:
        channels (int): Channels ``C`` of every task's features.
        num_aux (int): Number of auxiliary (other) tasks ``A`` (>= 1).
        cbam_cfg (dict, optional): Extra :class:`CBAM` arguments.
        norm_cfg (dict): Norm config.
        act_cfg (dict): Activation config of the branches and the fusion
            conv.
        main_branch_act (bool): End the main branch with ``act_cfg`` as the
            paper's ``ReLU(BN(CBAM(.)))`` (default); ``False`` follows the
            released code, whose main branch stops at the BN.
        attn_scale (bool): Scale the logits by ``1/sqrt(C)``.
        residual (bool): Add ``X_main`` to the output.
        attn_downsample (int): Pooling factor of keys/values (>= 1).
        downsample_queries (bool): Also pool the queries (see above).
        with_coherence_loss (bool): Compute the coherence loss.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 num_aux: int,
                 cbam_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 main_branch_act: bool = True,
                 attn_scale: bool = False,
                 residual: bool = False,
                 attn_downsample: int = 1,
                 downsample_queries: bool = False,
                 with_coherence_loss: bool = True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_aux < 1:
            raise ValueError('CoherenceFusionModule needs at least one '
                             f'auxiliary task (num_aux >= 1), got {num_aux}')
        if int(attn_downsample) != attn_downsample or attn_downsample < 1:
            raise ValueError('attn_downsample must be an integer >= 1, got '
                             f'{attn_downsample!r}')
        cbam_cfg = dict(cbam_cfg or {})
        self.channels = channels
        self.num_aux = num_aux
        self.scale = 1.0 / math.sqrt(channels) if attn_scale else 1.0
        self.residual = residual
        self.attn_downsample = int(attn_downsample)
        self.downsample_queries = downsample_queries
        self.with_coherence_loss = with_coherence_loss
        self.gates = nn.ModuleList(
            [nn.Conv2d(channels, channels, 1) for _ in range(num_aux)])
        self.aux_fuse = ConvModule(num_aux * channels, channels, 1,
                                   act_cfg=act_cfg)
        self.main_branch = CBAMBranch(channels, cbam_cfg, norm_cfg,
                                      act_cfg if main_branch_act else None)
        self.query_branch = CBAMBranch(channels, cbam_cfg, norm_cfg, act_cfg)
        self.key_branch = CBAMBranch(channels, cbam_cfg, norm_cfg, act_cfg)
        self.out_branch = CBAMBranch(channels, cbam_cfg, norm_cfg, None)

    def gated_concat(self, aux_feats: Sequence[Tensor]) -> Tensor:
        """(B, A*C, H, W) concatenation of the gated auxiliary features."""
        if len(aux_feats) != self.num_aux:
            raise ValueError(f'CoherenceFusionModule was built for '
                             f'{self.num_aux} auxiliary tasks, got '
                             f'{len(aux_feats)}')
        return torch.cat([
            x * torch.sigmoid(gate(x))
            for gate, x in zip(self.gates, aux_feats)
        ], dim=1)

    def fuse(self, main: Tensor, query: Tensor, key: Tensor) -> Tensor:
        """Attention of the auxiliary queries/keys over the main features.

        Args:
            main (Tensor): (B, C, H, W) values ``X'_main``.
            query (Tensor): (B, C, H, W) queries.
            key (Tensor): (B, C, H, W) keys.

        Returns:
            Tensor: (B, C, H, W) fused features.
        """
        b, c, h, w = main.shape
        s = self.attn_downsample
        if s > 1:
            pool = dict(kernel_size=s, stride=s, ceil_mode=True)
            key = F.avg_pool2d(key, **pool)
            main = F.avg_pool2d(main, **pool)
            if self.downsample_queries:
                query = F.avg_pool2d(query, **pool)
        out = cross_task_attention(query.flatten(2), key.flatten(2),
                                   main.flatten(2), self.scale)
        out = out.reshape(b, c, *query.shape[2:])
        if out.shape[2:] != (h, w):
            out = resize(out, size=(h, w), mode='bilinear',
                         align_corners=False)
        return out

    def forward(self, main: Tensor, aux_feats: Sequence[Tensor]
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """Fuse the main task with the other tasks.

        Args:
            main (Tensor): (B, C, H, W) main-task features.
            aux_feats (Sequence[Tensor]): ``num_aux`` (B, C, H, W) features
                of the other tasks.

        Returns:
            tuple[Tensor, Tensor | None]: (B, C, H, W) output ``H`` and the
            scalar coherence loss (``None`` when disabled).
        """
        aux = self.aux_fuse(self.gated_concat(aux_feats))
        main_p = self.main_branch(main)
        query = self.query_branch(aux)
        key = self.key_branch(aux)
        loss = cosine_coherence_loss(main_p, query) \
            if self.with_coherence_loss else None
        out = self.out_branch(self.fuse(main_p, query, key))
        if self.residual:
            out = out + main
        return out, loss
