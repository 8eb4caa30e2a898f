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

Two implementations compute the same ``F_d``:

* :func:`affinity_diffusion_dense` is the readable reference. It
  materialises ``A_k``, ``M`` and ``G`` (``O(N * P^2)`` memory, several
  times that under autograd).
* :func:`affinity_diffusion_chunked` (the memory-efficient path) never forms
  a ``P x P`` matrix. Every ``A_k`` has rank ``<= C`` and the fusion and the
  diffusion are linear, so the sums can be regrouped. With
  ``S_d X_k`` the features shifted by the kernel offset ``d`` (zero outside
  the grid: the convolution's padding),

  ``G[c, p] = b[c] + sum_{k,d} w[c, k, d] X_k[:, c] . X_k[:, p + d]
  = b[c] + U[c] . V[:, p]``

  with ``V`` (K, P) the stacked shifted features (``F.unfold`` of each
  task's features, ``K = N * C * f * f``) and ``U[c] = (w[c, k, d]
  X_k[c', c])_{k, c', d}`` (P, K) the per-anchor weighted features. Then
  ``F_d = F_p G^T = (F_p V^T) U^T + (F_p 1) b^T``: one (D, P) x (P, K)
  product per target ``Q = F_p V^T`` and one (D, K) x (K, P) product per
  fusion group, ``O(T * D * K * P)`` operations instead of
  ``O(N * P^2 * (C + f * f) + T * D * P^2)``, and ``O(K * P)`` memory. The
  anchor axis is processed in blocks of ``chunk_size`` rows of ``U`` (built,
  used and freed per block, rebuilt in backward); backward is written out by
  hand (a handful of batched matrix products per block), and only the
  inputs and the small ``Q`` (B, T, D, K) are kept between forward and
  backward. ``chunk_size='auto'`` picks the block from a memory budget
  (:func:`auto_chunk_size`).

Both run in float32 under ``torch.autocast`` (float64 inputs stay float64):
the diffusion adds ``P`` products, which overflows float16 at paper scale
(``P = 6912``), and the chunked path's hand-written backward must see the
dtypes its forward used. Float64 results of the two paths agree to rounding
(``tests/test_models/test_layers/test_affinity.py``). In float32 on a GPU,
the dense path's grouped convolution uses TF32 by default (PyTorch's default
for cuDNN convolutions on Ampere and later), the chunked path's matrix
products do not, so the two differ by about 1e-4 relative there; see
:func:`mmmtl.utils.precision.tf32_disabled` for exact comparisons.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmmtl.utils.precision import float32_region, l2_normalize, upcast

#: Memory budget of one anchor block of the chunked path with
#: ``chunk_size='auto'`` (bytes).
AUTO_CHUNK_BUDGET = 512 * 2**20


def normalize_columns(feats: Tensor, eps: float = 1e-12) -> Tensor:
    """L2-normalise every pixel vector of (..., C, P) features over ``C``.

    Half-precision inputs are normalised in float32 (and returned as
    float32): the squared norm of a 64-channel float16 vector overflows
    for entries above about 32, and its bfloat16 value has 8 bits.
    """
    return l2_normalize(feats, dim=-2, eps=eps)


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
    feats, projs, weight, bias = _full_precision(feats, projs, weight, bias)
    with float32_region(feats.device):
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


def _full_precision(feats: Tensor, projs: Tensor, weight: Tensor,
                    bias: Optional[Tensor]) -> Tuple:
    """The four inputs in float32 (half inputs promoted) or float64, checked
    to share one dtype."""
    feats, projs, weight, bias = upcast(feats, projs, weight, bias)
    dtypes = {t.dtype for t in (feats, projs, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise ValueError(f'feats, projs, weight and bias must share one '
                         f'floating dtype, got {sorted(map(str, dtypes))}')
    return feats, projs, weight, bias


def shifted_features(feats: Tensor, size: Tuple[int, int],
                     kernel_size: int) -> Tensor:
    """Every task's features shifted by every kernel offset: ``V`` of the
    module docstring for one task.

    Args:
        feats (Tensor): (B, C, P) features of one task.
        size (tuple[int, int]): The grid (H, W).
        kernel_size (int): ``f`` (odd); zero padding of ``f // 2``.

    Returns:
        Tensor: (B, C * f * f, P) with row ``c * f * f + d`` equal to
        ``feats[:, c, p + d]`` (zero where ``p + d`` leaves the grid), ``d``
        running over the kernel in row-major order like a conv weight.
    """
    batch, channels, _ = feats.shape
    return F.unfold(feats.reshape(batch, channels, *size), kernel_size,
                    padding=kernel_size // 2)


def fold_shifted(grad: Tensor, size: Tuple[int, int],
                 kernel_size: int) -> Tensor:
    """Adjoint of :func:`shifted_features`: (B, C * f * f, P) -> (B, C, P).
    """
    folded = F.fold(grad, size, kernel_size, padding=kernel_size // 2)
    return folded.flatten(2)


def auto_chunk_size(batch: int, groups: int, num_tasks: int, channels: int,
                    kernel_size: int, positions: int, itemsize: int,
                    budget: int = AUTO_CHUNK_BUDGET) -> int:
    """Anchor rows per block of the chunked path that fit ``budget`` bytes.

    A block of ``R`` rows holds, at its peak in backward, ``U`` and its
    gradient (B, G, R, K) plus two temporaries of the same size, ``K =
    N * C * f * f``; everything else the path keeps is independent of ``R``.

    Args:
        batch (int): ``B``.
        groups (int): Fusion groups ``G``.
        num_tasks (int): ``N``.
        channels (int): ``C`` of the affinity features.
        kernel_size (int): ``f``.
        positions (int): ``P`` (the result never exceeds it).
        itemsize (int): Bytes per element (4 for float32).
        budget (int): Bytes one block may use.

    Returns:
        int: ``R`` in ``[1, P]``.
    """
    per_row = 4 * batch * groups * num_tasks * channels * kernel_size**2 * \
        itemsize
    return int(max(1, min(positions, budget // max(per_row, 1))))


class _ChunkedAffinityDiffusion(torch.autograd.Function):
    """Factorised CTAL fusion + diffusion over blocks of anchor rows.

    See the module docstring for the algebra. Shapes: ``feats`` (B, N, C, P),
    ``projs`` (B, T, D, P), ``weight`` (G, P, N, f, f), ``bias`` (G, P);
    internally ``K = N * C * f * f``, ``Q`` (B, G, T / G * D, K) (``F_p V^T``
    times ``scale``, targets grouped by the fusion they use), ``s``
    (B, G, T / G * D) (``F_p 1`` times ``scale``) and, per block of ``R``
    anchors, ``U`` (B, G, R, K). Inputs must share one dtype (float32 or
    float64); autocast is off inside (see
    :func:`affinity_diffusion_chunked`).
    """

    @staticmethod
    def forward(ctx, feats: Tensor, projs: Tensor, weight: Tensor,
                bias: Optional[Tensor], size: Tuple[int, int],
                chunk_size: int, scale: float) -> Tensor:
        batch, num_tasks, channels, positions = feats.shape
        groups, kernel = weight.shape[0], weight.shape[-1]
        targets, dims = projs.shape[1], projs.shape[2]
        rows_per_group = targets // groups * dims
        flat_projs = projs.reshape(batch, targets * dims, positions)
        q = torch.cat([
            torch.matmul(flat_projs, shifted_features(
                feats[:, k], size, kernel).transpose(1, 2))
            for k in range(num_tasks)
        ], dim=2).mul_(scale).view(batch, groups, rows_per_group, -1)
        s = None if bias is None else (flat_projs.sum(2) * scale).view(
            batch, groups, rows_per_group, 1)
        out = projs.new_empty(batch, groups, rows_per_group, positions)
        for start in range(0, positions, chunk_size):
            end = min(start + chunk_size, positions)
            u = _anchor_block(feats, weight, start, end)  # (B, G, R, K)
            block = torch.matmul(q, u.transpose(2, 3))  # (B, G, TD/G, R)
            if bias is not None:
                block += s * bias[None, :, None, start:end]
            out[..., start:end] = block
            del u, block
        ctx.save_for_backward(feats, projs, weight, bias, q, s)
        ctx.size, ctx.chunk_size, ctx.scale = size, chunk_size, scale
        return out.view(batch, targets, dims, positions)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):
        feats, projs, weight, bias, q, s = ctx.saved_tensors
        with float32_region(feats.device):
            return _chunked_backward(ctx, grad_out.to(feats.dtype), feats,
                                     projs, weight, bias, q, s)


def _anchor_block(feats: Tensor, weight: Tensor, start: int,
                  end: int) -> Tensor:
    """``U`` of the anchors ``[start, end)``: (B, G, R, K) with
    ``U[b, g, r, (k, c, d)] = feats[b, k, c, start + r] *
    weight[g, start + r, k, d]``."""
    batch, num_tasks, channels, _ = feats.shape
    groups, kernel = weight.shape[0], weight.shape[-1]
    rows = end - start
    anchors = feats[..., start:end].permute(0, 3, 1, 2)  # (B, R, N, C)
    w = weight[:, start:end].reshape(groups, rows, num_tasks, 1, kernel**2)
    u = feats.new_empty(batch, groups, rows, num_tasks, channels, kernel**2)
    torch.mul(anchors[:, None, ..., None], w, out=u)
    return u.view(batch, groups, rows, -1)


def _chunked_backward(ctx, grad_out: Tensor, feats: Tensor, projs: Tensor,
                      weight: Tensor, bias: Optional[Tensor], q: Tensor,
                      s: Optional[Tensor]) -> Tuple:
    """Gradients of :class:`_ChunkedAffinityDiffusion` (same argument names
    as its forward; ``grad_out`` (B, T, D, P))."""
    need_feats, need_projs, need_weight, need_bias = ctx.needs_input_grad[:4]
    batch, num_tasks, channels, positions = feats.shape
    groups, kernel = weight.shape[0], weight.shape[-1]
    targets, dims = projs.shape[1], projs.shape[2]
    grad_out = grad_out.reshape(batch, groups, q.shape[2], positions)
    need_q = need_feats or need_projs
    need_u = need_feats or need_weight
    grad_q = torch.zeros_like(q) if need_q else None
    grad_s = torch.zeros_like(s) if s is not None and need_projs else None
    grad_feats = torch.zeros_like(feats) if need_feats else None
    grad_weight = torch.zeros_like(weight) if need_weight else None
    grad_bias = torch.zeros_like(bias) \
        if bias is not None and need_bias else None
    for start in range(0, positions, ctx.chunk_size):
        end = min(start + ctx.chunk_size, positions)
        rows = end - start
        grad_block = grad_out[..., start:end]  # (B, G, TD/G, R)
        if bias is not None:
            if grad_bias is not None:
                grad_bias[:, start:end] += (grad_block * s).sum((0, 2))
            if grad_s is not None:
                grad_s += torch.matmul(
                    grad_block, bias[None, :, start:end, None])
        if not (need_q or need_u):
            continue
        u = _anchor_block(feats, weight, start, end)
        if need_q:
            grad_q += torch.matmul(grad_block, u)
        if need_u:
            grad_u = torch.matmul(grad_block.transpose(2, 3), q).view(
                batch, groups, rows, num_tasks, channels, kernel**2)
            anchors = feats[..., start:end].permute(0, 3, 1, 2)
            if need_weight:
                grad_weight[:, start:end] += torch.einsum(
                    'bgrnce,brnc->grne', grad_u, anchors).view(
                        groups, rows, num_tasks, kernel, kernel)
            if need_feats:
                w = weight[:, start:end].reshape(groups, rows, num_tasks,
                                                 kernel**2)
                grad_feats[..., start:end] += torch.einsum(
                    'bgrnce,grne->bncr', grad_u, w)
            del grad_u
        del u
    grad_projs = None
    if need_q:
        flat_projs = projs.reshape(batch, targets * dims, positions)
        grad_q = grad_q.mul_(ctx.scale).view(batch, targets * dims,
                                             num_tasks, -1)
        if need_projs:
            grad_projs = torch.zeros_like(flat_projs)
            if grad_s is not None:
                grad_projs += grad_s.view(batch, -1, 1) * ctx.scale
        for k in range(num_tasks):
            grad_qk = grad_q[:, :, k]  # (B, TD, C f f)
            if need_projs:
                grad_projs += torch.matmul(grad_qk, shifted_features(
                    feats[:, k], ctx.size, kernel))
            if need_feats:
                grad_feats[:, k] += fold_shifted(
                    torch.matmul(grad_qk.transpose(1, 2), flat_projs),
                    ctx.size, kernel)
        if grad_projs is not None:
            grad_projs = grad_projs.view_as(projs)
    return grad_feats, grad_projs, grad_weight, grad_bias, None, None, None


def affinity_diffusion_chunked(feats: Tensor,
                               projs: Tensor,
                               weight: Tensor,
                               bias: Optional[Tensor],
                               size: Tuple[int, int],
                               scale: float = 1.0,
                               chunk_size: Union[int, str] = 'auto',
                               budget: int = AUTO_CHUNK_BUDGET) -> Tensor:
    """Memory-efficient equivalent of :func:`affinity_diffusion_dense`.

    Factorises the fused affinity (see the module docstring) so that no
    ``P x P`` matrix exists, and processes ``chunk_size`` anchor rows at a
    time, rebuilding each block in backward. Peak memory grows with
    ``B * (G * chunk_size + 2 * C * f * f) * N * C * f * f`` floats instead
    of ``B * N * P * P``.

    Args:
        feats, projs, weight, bias, size, scale: See
            :func:`affinity_diffusion_dense`.
        chunk_size (int | str): Anchor rows per block (> 0), or ``'auto'``:
            as many as fit ``budget`` (:func:`auto_chunk_size`). The result
            does not depend on it; larger blocks mean fewer, larger matrix
            products (faster on GPUs).
        budget (int): Bytes of one block with ``chunk_size='auto'``.

    Returns:
        Tensor: (B, T, D, P) diffused features, float32 for half or float32
        inputs (also under autocast), float64 for float64 inputs.
    """
    check_chunk_size(chunk_size)
    _check_shapes(feats, projs, weight, bias, size)
    feats, projs, weight, bias = _full_precision(feats, projs, weight, bias)
    if chunk_size == 'auto':
        chunk_size = auto_chunk_size(
            feats.shape[0], weight.shape[0], feats.shape[1], feats.shape[2],
            weight.shape[-1], feats.shape[3], feats.element_size(), budget)
    with float32_region(feats.device):
        return _ChunkedAffinityDiffusion.apply(feats, projs, weight, bias,
                                               tuple(size), chunk_size,
                                               float(scale))


def check_chunk_size(chunk_size: Union[int, str]) -> Union[int, str]:
    """Validate a ``chunk_size`` argument: a positive int or ``'auto'``.

    Returns:
        int | str: ``chunk_size`` (ints as ``int``).

    Raises:
        ValueError: Naming the bad value.
    """
    if chunk_size == 'auto':
        return chunk_size
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) \
            or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive int or 'auto', got "
                         f'{chunk_size!r}')
    return chunk_size
