# Copyright (c) mmmtl contributors. All rights reserved.
"""Task-affinity operations of CTAL (and PAP-Net): dense and chunked paths.

Notation (one image; the batch dimension is carried along everywhere):

* ``N`` tasks, ``P = H * W`` positions of the distillation grid.
* ``X_k`` (C, P): the initial features of task ``k`` with every column
  (pixel vector) L2-normalised.
* ``A_k = X_k^T X_k`` (P, P): the intra-task affinity, a cosine Gram matrix.
  Row ``c`` holds the similarities of the *anchor* position ``c`` with every
  *query* position ``p``.
* ``M`` (N * P, H, W): the joint affinity. ``A_k`` is reshaped to
  (P, H, W) -- channel ``c`` is the anchor, the spatial axes are the query
  positions ``p`` -- and the N maps are interleaved along channels, so
  ``M[c * N + k] = A_k[c].view(H, W)``.
* The inter-task fusion is a grouped convolution with ``P`` groups of ``N``
  input channels, one ``f x f`` kernel per anchor (``P x N x f x f`` weights
  and ``P`` biases)::

      G[c, p] = b[c] + sum_k sum_{d in f x f} w[c, k, d] * A_k[c, p + d]

  (zero padding at the border of the query grid).
* Diffusion (paper Eq. 1): ``F_d = F_p G^T``, i.e. the output at position
  ``c`` is ``F_d[:, c] = sum_p F_p[:, p] * G[c, p]``.

Which axis may be chunked: the ``f x f`` convolution runs over the *query*
axis ``p`` (the spatial axes of ``M``) and mixes neighbouring query
positions of *one* anchor row, never two anchors: group ``c`` reads only
channels ``c * N .. c * N + N - 1``, i.e. row ``c`` of every ``A_k``. The
anchor axis ``c`` is therefore embarrassingly parallel: a block of anchor
rows ``[c0, c1)`` needs ``X_k[:, c0:c1]`` and all of ``X_k``, the kernels
``w[c0:c1]``, and produces exactly the output columns ``F_d[:, c0:c1]``.
Chunking the query axis instead would need halos of ``f // 2`` grid rows
and partial sums over ``p``, so the anchor axis is the one chunked here.

:func:`affinity_diffusion_dense` is the readable reference that
materialises ``A_k``, ``M`` and ``G`` (``O(N * P^2)`` memory, several times
that under autograd). :func:`affinity_diffusion_chunked` computes the same
result one block of anchor rows at a time and recomputes each block in the
backward pass, so it never holds more than ``N * chunk_size * P`` affinity
values (plus ``G`` for the block) at any moment. In practice the largest
buffer of a block is the grouped convolution's unfolded input (PyTorch's CPU
kernels unfold ``N * f * f`` values per affinity entry), so the peak is about
``B * chunk_size * P * (N * f * f + 2 * N + 2)`` floats instead of several
times ``B * N * P * P``: pick ``chunk_size`` to fit the memory at hand (the
time per block grows with its size, the total time barely depends on it).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def normalize_columns(feats: Tensor, eps: float = 1e-12) -> Tensor:
    """L2-normalise every pixel vector of (..., C, P) features over ``C``."""
    return F.normalize(feats, p=2, dim=-2, eps=eps)


def cosine_affinity(feats: Tensor) -> Tensor:
    """Gram matrix of column-normalised features.

    Args:
        feats (Tensor): (..., C, P) features whose columns are already
            L2-normalised (see :func:`normalize_columns`).

    Returns:
        Tensor: (..., P, P) cosine similarities ``feats^T feats``.
    """
    return torch.matmul(feats.transpose(-1, -2), feats)


def interleave_affinities(affinities: Sequence[Tensor],
                          size: Tuple[int, int]) -> Tensor:
    """Reshape N (B, R, P) affinity row blocks to the joint map ``M``.

    Args:
        affinities (Sequence[Tensor]): N tensors (B, R, P): rows (anchors)
            of each task's affinity, ``P = H * W``.
        size (tuple[int, int]): The query grid (H, W).

    Returns:
        Tensor: (B, R * N, H, W) with channel ``r * N + k`` equal to row
        ``r`` of task ``k`` (the paper's interleaved concatenation).
    """
    batch, rows, _ = affinities[0].shape
    return torch.stack(list(affinities), dim=2).reshape(
        batch, rows * len(affinities), size[0], size[1])


def _check_shapes(feats: Tensor, projs: Tensor, weight: Tensor,
                  bias: Optional[Tensor], size: Tuple[int, int]) -> None:
    if feats.dim() != 4 or projs.dim() != 4 or weight.dim() != 5:
        raise ValueError(
            'expected feats (B, N, C, P), projs (B, T, D, P) and weight '
            f'(G, P, N, f, f); got {tuple(feats.shape)}, '
            f'{tuple(projs.shape)} and {tuple(weight.shape)}')
    batch, num_tasks, _, positions = feats.shape
    if positions != size[0] * size[1]:
        raise ValueError(f'feats have {positions} positions but the grid '
                         f'{tuple(size)} has {size[0] * size[1]}')
    if projs.shape[0] != batch or projs.shape[3] != positions:
        raise ValueError(f'projs {tuple(projs.shape)} do not match feats '
                         f'{tuple(feats.shape)}')
    groups, w_pos, w_tasks, k_h, k_w = weight.shape
    if w_pos != positions or w_tasks != num_tasks or k_h != k_w \
            or k_h % 2 == 0:
        raise ValueError(
            f'weight {tuple(weight.shape)} must be (G, {positions}, '
            f'{num_tasks}, f, f) with an odd f')
    if groups not in (1, projs.shape[1]):
        raise ValueError(f'weight has {groups} fusion groups; expected 1 '
                         f'(shared) or {projs.shape[1]} (one per task)')
    if bias is not None and tuple(bias.shape) != (groups, positions):
        raise ValueError(f'bias {tuple(bias.shape)} must be '
                         f'({groups}, {positions})')


def affinity_diffusion_dense(feats: Tensor,
                             projs: Tensor,
                             weight: Tensor,
                             bias: Optional[Tensor],
                             size: Tuple[int, int],
                             scale: float = 1.0) -> Tensor:
    """CTAL inter-task fusion and diffusion, materialising everything.

    The straightforward transcription of the paper (Sec. 2.1): full affinity
    matrices, interleaved joint map, one grouped convolution per fusion
    group, reshape back and ``F_p G^T``.

    Args:
        feats (Tensor): (B, N, C, P) column-normalised initial features.
        projs (Tensor): (B, T, D, P) projected features ``F_p`` of the T
            target tasks.
        weight (Tensor): (G, P, N, f, f) grouped-conv kernels, ``G == T``
            (one fusion per task) or ``G == 1`` (shared by all tasks).
        bias (Tensor, optional): (G, P) grouped-conv biases.
        size (tuple[int, int]): The grid (H, W), ``H * W == P``.
        scale (float): Factor applied to the diffused features (e.g.
            ``1 / P``).

    Returns:
        Tensor: (B, T, D, P) diffused features ``F_d``.
    """
    _check_shapes(feats, projs, weight, bias, size)
    num_tasks, positions = feats.shape[1], feats.shape[3]
    affinities = [cosine_affinity(feats[:, k]) for k in range(num_tasks)]
    joint = interleave_affinities(affinities, size)  # (B, N*P, H, W)
    fused: List[Tensor] = []
    for g in range(weight.shape[0]):
        out = F.conv2d(joint, weight[g],
                       None if bias is None else bias[g],
                       padding=weight.shape[-1] // 2, groups=positions)
        fused.append(out.flatten(2))  # (B, P, P): G[c, p]
    diffused = [
        torch.matmul(projs[:, t], fused[t if len(fused) > 1 else 0]
                     .transpose(1, 2))
        for t in range(projs.shape[1])
    ]
    return torch.stack(diffused, dim=1) * scale


def _fused_rows(feats: Tensor, weight: Tensor, bias: Optional[Tensor],
                size: Tuple[int, int], start: int) -> List[Tensor]:
    """Fused affinity rows ``G[start:start + R]`` for every fusion group.

    Args:
        feats (Tensor): (B, N, C, P) column-normalised features.
        weight (Tensor): (G, R, N, f, f) kernels of the R anchors.
        bias (Tensor, optional): (G, R) biases of the R anchors.
        size (tuple[int, int]): The grid (H, W).
        start (int): First anchor of the block.

    Returns:
        list[Tensor]: G tensors (B, R, P).
    """
    rows = weight.shape[1]
    anchors = feats[..., start:start + rows]  # (B, N, C, R)
    affinity = torch.matmul(anchors.transpose(-1, -2), feats)  # (B,N,R,P)
    joint = interleave_affinities(affinity.unbind(1), size)
    return [
        F.conv2d(joint, weight[g], None if bias is None else bias[g],
                 padding=weight.shape[-1] // 2, groups=rows).flatten(2)
        for g in range(weight.shape[0])
    ]


class _ChunkedAffinityDiffusion(torch.autograd.Function):
    """Anchor-chunked CTAL fusion + diffusion with recomputation.

    Forward keeps only the inputs; backward recomputes each block of fused
    rows, back-propagates through it with autograd and frees it before the
    next block.
    """

    @staticmethod
    def forward(ctx, feats: Tensor, projs: Tensor, weight: Tensor,
                bias: Optional[Tensor], size: Tuple[int, int],
                chunk_size: int, scale: float) -> Tensor:
        positions = feats.shape[3]
        num_groups = weight.shape[0]
        out = projs.new_empty(projs.shape)
        for start in range(0, positions, chunk_size):
            end = min(start + chunk_size, positions)
            fused = _fused_rows(
                feats, weight[:, start:end],
                None if bias is None else bias[:, start:end], size, start)
            for t in range(projs.shape[1]):
                rows = fused[t if num_groups > 1 else 0]  # (B, R, P)
                out[:, t, :, start:end] = torch.matmul(
                    projs[:, t], rows.transpose(1, 2)) * scale
        ctx.save_for_backward(feats, projs, weight, bias)
        ctx.size, ctx.chunk_size, ctx.scale = size, chunk_size, scale
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        feats, projs, weight, bias = ctx.saved_tensors
        need_feats, need_projs, need_weight, need_bias = \
            ctx.needs_input_grad[:4]
        positions, num_groups = feats.shape[3], weight.shape[0]
        num_targets = projs.shape[1]
        grad_out = grad_out * ctx.scale
        grad_feats = torch.zeros_like(feats) if need_feats else None
        grad_projs = torch.zeros_like(projs) if need_projs else None
        grad_weight = torch.zeros_like(weight) if need_weight else None
        grad_bias = torch.zeros_like(bias) \
            if bias is not None and need_bias else None
        for start in range(0, positions, ctx.chunk_size):
            end = min(start + ctx.chunk_size, positions)
            with torch.enable_grad():
                feats_leaf = feats.detach().requires_grad_(need_feats)
                w_leaf = weight[:, start:end].detach().requires_grad_(
                    need_weight)
                b_leaf = None if bias is None else \
                    bias[:, start:end].detach().requires_grad_(
                        grad_bias is not None)
                fused = _fused_rows(feats_leaf, w_leaf, b_leaf, ctx.size,
                                    start)
            # Manual backward of out[:, t, :, rows] = projs_t @ G_rows^T.
            grad_fused = [torch.zeros_like(f) for f in fused]
            for t in range(num_targets):
                g = t if num_groups > 1 else 0
                grad_rows = grad_out[:, t, :, start:end]  # (B, D, R)
                if need_projs:
                    grad_projs[:, t] += torch.matmul(grad_rows,
                                                     fused[g].detach())
                grad_fused[g] += torch.matmul(grad_rows.transpose(1, 2),
                                              projs[:, t])
            leaves = [(x, acc) for x, acc in (
                (feats_leaf, grad_feats), (w_leaf, grad_weight),
                (b_leaf, grad_bias)) if acc is not None]
            if leaves:
                grads = torch.autograd.grad(fused, [x for x, _ in leaves],
                                            grad_fused)
                for (leaf, acc), grad in zip(leaves, grads):
                    if leaf is feats_leaf:
                        acc += grad
                    else:
                        acc[:, start:end] += grad
            del fused, grad_fused
        return grad_feats, grad_projs, grad_weight, grad_bias, None, None, \
            None


def affinity_diffusion_chunked(feats: Tensor,
                               projs: Tensor,
                               weight: Tensor,
                               bias: Optional[Tensor],
                               size: Tuple[int, int],
                               scale: float = 1.0,
                               chunk_size: int = 256) -> Tensor:
    """Memory-efficient equivalent of :func:`affinity_diffusion_dense`.

    Processes ``chunk_size`` anchor rows at a time (see the module
    docstring for why the anchor axis is exact to chunk) and recomputes each
    block in backward, so peak memory grows with ``N * chunk_size * P``
    instead of ``N * P * P``.

    Args:
        feats, projs, weight, bias, size, scale: See
            :func:`affinity_diffusion_dense`.
        chunk_size (int): Anchor rows per block (> 0).

    Returns:
        Tensor: (B, T, D, P) diffused features.
    """
    if not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f'chunk_size must be a positive int, got '
                         f'{chunk_size!r}')
    _check_shapes(feats, projs, weight, bias, size)
    return _ChunkedAffinityDiffusion.apply(feats, projs, weight, bias,
                                           tuple(size), chunk_size,
                                           float(scale))
