"""CTAL affinity ops: dense reference vs loops, chunked vs dense, module."""
import pytest
import torch

from mmmtl.models.layers.affinity import (affinity_diffusion_chunked,
                                          affinity_diffusion_dense,
                                          auto_chunk_size, cosine_affinity,
                                          fold_shifted,
                                          interleave_affinities,
                                          normalize_columns,
                                          shifted_features)
from mmmtl.models.layers.affinity_propagation import TaskAffinityPropagation
from mmmtl.models.layers.cross_task_affinity import CrossTaskAffinity
from mmmtl.utils.precision import tf32_disabled

B, N, C, D, H, W = 2, 3, 4, 3, 3, 4
P = H * W


def _inputs(groups, seed=0, bias=True, f=3):
    g = torch.Generator().manual_seed(seed)
    kw = dict(dtype=torch.float64, generator=g)
    feats = normalize_columns(torch.randn(B, N, C, P, **kw))
    projs = torch.randn(B, N, D, P, **kw)
    weight = torch.randn(groups, P, N, f, f, **kw)
    b = torch.randn(groups, P, **kw) if bias else None
    return feats, projs, weight, b


def _loop_reference(feats, projs, weight, bias, scale=1.0):
    """Paper formulas written with explicit loops (tiny sizes only)."""
    out = torch.zeros_like(projs)
    r = weight.shape[-1] // 2
    for b in range(B):
        aff = [feats[b, k].T @ feats[b, k] for k in range(N)]
        for t in range(N):
            g = t if weight.shape[0] > 1 else 0
            fused = torch.zeros(P, P, dtype=feats.dtype)
            for c in range(P):
                for p in range(P):
                    u, v = divmod(p, W)
                    acc = bias[g, c] if bias is not None else 0.0
                    for k in range(N):
                        for du in range(-r, r + 1):
                            for dv in range(-r, r + 1):
                                uu, vv = u + du, v + dv
                                if 0 <= uu < H and 0 <= vv < W:
                                    acc = acc + weight[g, c, k, du + r,
                                                       dv + r] * \
                                        aff[k][c, uu * W + vv]
                    fused[c, p] = acc
            out[b, t] = projs[b, t] @ fused.T * scale
    return out


def test_cosine_affinity_and_interleave():
    x = normalize_columns(torch.tensor([[[3., 0.], [4., 2.]]]))
    aff = cosine_affinity(x)  # columns (0.6, 0.8) and (0, 1)
    assert torch.allclose(aff, torch.tensor([[[1., 0.8], [0.8, 1.]]]))
    a0 = torch.arange(4.).view(1, 2, 2)
    a1 = 10 + a0
    joint = interleave_affinities([a0, a1], (1, 2))
    assert joint.shape == (1, 4, 1, 2)
    # channel r * N + k holds row r of task k
    assert joint[0, :, 0].tolist() == [[0, 1], [10, 11], [2, 3], [12, 13]]


@pytest.mark.parametrize('groups', [1, N])
def test_dense_matches_loop_reference(groups):
    feats, projs, weight, bias = _inputs(groups)
    expected = _loop_reference(feats, projs, weight, bias, scale=0.5)
    got = affinity_diffusion_dense(feats, projs, weight, bias, (H, W), 0.5)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('groups,bias,chunk', [(1, True, 5), (N, True, 1),
                                               (N, False, 7),
                                               (N, True, P), (1, False, 'auto'),
                                               (N, True, 'auto')])
def test_chunked_matches_dense_values_and_gradients(groups, bias, chunk):
    tensors = [t.clone().requires_grad_() if t is not None else None
               for t in _inputs(groups, seed=1, bias=bias)]
    leaves = [t for t in tensors if t is not None]
    dense = affinity_diffusion_dense(*tensors, (H, W), 1.0 / P)
    chunked = affinity_diffusion_chunked(*tensors, (H, W), 1.0 / P,
                                         chunk_size=chunk)
    torch.testing.assert_close(chunked, dense, rtol=1e-6, atol=1e-12)
    grad_out = torch.randn_like(dense)
    g_dense = torch.autograd.grad(dense, leaves, grad_out)
    g_chunk = torch.autograd.grad(chunked, leaves, grad_out)
    for a, b in zip(g_chunk, g_dense):
        assert a.abs().sum() > 0
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)


def test_chunked_gradients_through_normalisation():
    """Gradients w.r.t. the un-normalised features agree too."""
    raw = torch.randn(B, N, C, P, dtype=torch.float64, requires_grad=True)
    _, projs, weight, bias = _inputs(N, seed=2)
    outs = [fn(normalize_columns(raw), projs, weight, bias, (H, W))
            for fn in (affinity_diffusion_dense, affinity_diffusion_chunked)]
    grads = [torch.autograd.grad(o.square().sum(), raw)[0] for o in outs]
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-12)


def test_chunked_only_some_inputs_require_grad():
    feats, projs, weight, bias = _inputs(N, seed=3)
    weight.requires_grad_()
    out = affinity_diffusion_chunked(feats, projs, weight, bias, (H, W),
                                     chunk_size=4)
    ref = affinity_diffusion_dense(feats, projs, weight, bias, (H, W))
    ga = torch.autograd.grad(out.sum(), weight)[0]
    gb = torch.autograd.grad(ref.sum(), weight)[0]
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize('f', [1, 5])
def test_chunked_matches_dense_other_kernel_sizes(f):
    tensors = [t.requires_grad_() for t in _inputs(N, seed=4, f=f)]
    dense = affinity_diffusion_dense(*tensors, (H, W), 0.7)
    chunked = affinity_diffusion_chunked(*tensors, (H, W), 0.7, chunk_size=3)
    torch.testing.assert_close(chunked, dense, rtol=1e-6, atol=1e-12)
    g_dense = torch.autograd.grad(dense.square().sum(), tensors)
    g_chunk = torch.autograd.grad(chunked.square().sum(), tensors)
    for a, b in zip(g_chunk, g_dense):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)


def test_chunked_passes_gradcheck():
    g = torch.Generator().manual_seed(5)
    kw = dict(dtype=torch.float64, generator=g)
    inputs = (torch.randn(1, 2, 3, 6, **kw), torch.randn(1, 2, 2, 6, **kw),
              torch.randn(2, 6, 2, 3, 3, **kw), torch.randn(2, 6, **kw))
    inputs = tuple(t.requires_grad_() for t in inputs)
    assert torch.autograd.gradcheck(
        lambda *a: affinity_diffusion_chunked(*a, (2, 3), 0.5, chunk_size=4),
        inputs, fast_mode=True)


def test_shifted_features_and_fold_are_adjoint():
    """<S x, y> == <x, S^T y>, and S shifts with zero padding."""
    x = torch.arange(6.).view(1, 1, 6)  # grid 2x3: [[0, 1, 2], [3, 4, 5]]
    v = shifted_features(x, (2, 3), 3)
    assert v.shape == (1, 9, 6)
    # offset (0, +1) (kernel index 5): right neighbour, 0 at the border
    assert v[0, 5].tolist() == [1, 2, 0, 4, 5, 0]
    # offset (-1, -1) (kernel index 0): upper-left neighbour
    assert v[0, 0].tolist() == [0, 0, 0, 0, 0, 1]
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 3, 12, dtype=torch.float64, generator=g)
    b = torch.randn(2, 27, 12, dtype=torch.float64, generator=g)
    lhs = (shifted_features(a, (3, 4), 3) * b).sum()
    rhs = (a * fold_shifted(b, (3, 4), 3)).sum()
    torch.testing.assert_close(lhs, rhs)


def test_auto_chunk_size_follows_the_budget():
    # per row: 4 buffers of B * G * N * C * f^2 floats
    per_row = 4 * 2 * 3 * 3 * 64 * 9 * 4
    assert auto_chunk_size(2, 3, 3, 64, 3, 6912, 4,
                           budget=100 * per_row) == 100
    assert auto_chunk_size(2, 3, 3, 64, 3, 6912, 4,
                           budget=100 * per_row - 1) == 99
    assert auto_chunk_size(2, 3, 3, 64, 3, 6912, 4, budget=1) == 1
    assert auto_chunk_size(2, 3, 3, 64, 3, 50, 4, budget=2**40) == 50


def test_bad_arguments_are_refused():
    feats, projs, weight, bias = _inputs(N)
    for bad in (0, -3, 2.5, 'big', True):
        with pytest.raises(ValueError, match='chunk_size'):
            affinity_diffusion_chunked(feats, projs, weight, bias, (H, W),
                                       chunk_size=bad)
    with pytest.raises(ValueError, match='chunk_size'):
        CrossTaskAffinity(['depth'], 2, (3, 4), chunk_size='fast')
    with pytest.raises(ValueError, match='share one floating dtype'):
        affinity_diffusion_chunked(feats, projs.float(), weight, bias,
                                   (H, W))
    with pytest.raises(ValueError, match='grid'):
        affinity_diffusion_dense(feats, projs, weight, bias, (H + 1, W))
    with pytest.raises(ValueError, match='fusion groups'):
        affinity_diffusion_dense(feats, projs, weight[:2], bias[:2], (H, W))


def test_grouped_conv_parameter_count_matches_paper():
    # 72 x 96 grid, N = 3 tasks, f = 3: 186,624 weights + 6,912 biases.
    module = CrossTaskAffinity(['semseg', 'depth', 'normals'], 4, (72, 96))
    for conv in module.fusion.values():
        assert conv.weight.numel() == 72 * 96 * 3 * 3 * 3 == 186624
        assert conv.bias.numel() == 72 * 96
        assert conv.groups == 72 * 96
    assert len(module.fusion) == 3
    shared = CrossTaskAffinity(['semseg', 'depth', 'normals'], 4, (72, 96),
                               shared_fusion=True)
    assert len(shared.fusion) == 1


def _module_pair(**kwargs):
    torch.manual_seed(0)
    dense = CrossTaskAffinity(['semseg', 'depth'], 4, (3, 4),
                              **kwargs).double()
    chunked = CrossTaskAffinity(['semseg', 'depth'], 4, (3, 4),
                                memory_efficient=True, chunk_size=5,
                                **kwargs).double()
    chunked.load_state_dict(dense.state_dict())
    return dense, chunked


@pytest.mark.parametrize('shared', [False, True])
def test_module_chunked_matches_dense(shared):
    dense, chunked = _module_pair(shared_fusion=shared, gamma=0.3)
    x = {t: torch.randn(2, 4, 3, 4, dtype=torch.float64, requires_grad=True)
         for t in ('semseg', 'depth')}
    outs = [m(x) for m in (dense, chunked)]
    for t in x:
        torch.testing.assert_close(outs[1][t], outs[0][t], rtol=1e-6,
                                   atol=1e-12)
    losses = [sum(o[t].square().sum() for t in o) for o in outs]
    for m, loss in zip((dense, chunked), losses):
        loss.backward()
    for (name, p1), (_, p2) in zip(dense.named_parameters(),
                                   chunked.named_parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-6, atol=1e-12,
                                   msg=name)


def test_module_blend_and_scale():
    torch.manual_seed(0)
    module = CrossTaskAffinity(['depth', 'edge'], 2, (2, 3), gamma=0.25,
                               scale_by_hw=True).double()
    x = {t: torch.randn(1, 2, 2, 3, dtype=torch.float64)
         for t in ('depth', 'edge')}
    out = module(x)
    weight, bias = module.fusion_parameters()
    normed = normalize_columns(torch.stack([x['depth'], x['edge']],
                                           1).flatten(3))
    projs = torch.stack([module.projections[t](x[t]) for t in x],
                        1).flatten(3)
    diffused = affinity_diffusion_dense(normed, projs, weight, bias,
                                        (2, 3)) / 6
    for i, t in enumerate(x):
        expected = 0.25 * diffused[:, i].view(1, 2, 2, 3) + 0.75 * x[t]
        torch.testing.assert_close(out[t], expected, rtol=1e-9, atol=1e-9)


def test_module_resamples_other_sizes():
    torch.manual_seed(0)
    module = CrossTaskAffinity(['depth', 'edge'], 2, (3, 4), gamma=0.0)
    x = {t: torch.randn(1, 2, 5, 7) for t in ('depth', 'edge')}
    out = module(x)
    for t in x:  # gamma = 0: exactly the input, at the input size
        assert out[t].shape == (1, 2, 5, 7)
        torch.testing.assert_close(out[t], x[t])
    module.gamma = 0.5
    out = module(x)
    assert out['depth'].shape == (1, 2, 5, 7)
    assert not torch.allclose(out['depth'], x['depth'])


def test_module_bad_config():
    with pytest.raises(ValueError, match='kernel_size'):
        CrossTaskAffinity(['depth'], 2, (3, 4), kernel_size=2)
    with pytest.raises(ValueError, match='grid_size'):
        CrossTaskAffinity(['depth'], 2, (0, 4))


# --------------------------------------------------------------------- #
# Mixed precision. Both paths compute in float32 under autocast, so their
# results equal a float32 run on the (rounded) half inputs up to float32
# rounding, and a float32 run on unrounded inputs up to the inputs' rounding
# (bfloat16: 2^-9 relative per input; tolerance 3e-2 relative to the
# largest entry).
# --------------------------------------------------------------------- #
def _float32_inputs():
    g = torch.Generator().manual_seed(6)
    feats = normalize_columns(torch.randn(B, N, 8, P, generator=g))
    projs = torch.randn(B, N, 8, P, generator=g)
    weight = torch.randn(N, P, N, 3, 3, generator=g)
    bias = torch.randn(N, P, generator=g)
    return feats, projs, weight, bias


def _rel_err(a, b):
    return ((a.float() - b.float()).abs().max() /
            b.float().abs().max()).item()


@pytest.mark.parametrize('memory_efficient', [False, True])
def test_affinity_under_cpu_autocast_bfloat16(memory_efficient):
    fn = affinity_diffusion_chunked if memory_efficient else \
        affinity_diffusion_dense
    feats, projs, weight, bias = _float32_inputs()
    half = [feats.bfloat16().requires_grad_(),
            projs.bfloat16().requires_grad_(), weight.requires_grad_(),
            bias.requires_grad_()]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = fn(*half, (H, W), 1.0 / P)
    assert out.dtype == torch.float32  # the sum over P stays float32
    out.square().sum().backward()
    assert half[0].grad.dtype == torch.bfloat16
    # float32 on the rounded inputs: equal to float32 rounding
    rounded = [t.detach().float().requires_grad_() for t in half]
    ref = fn(*rounded, (H, W), 1.0 / P)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    ref.square().sum().backward()
    torch.testing.assert_close(half[2].grad, rounded[2].grad, rtol=1e-4,
                               atol=1e-5)
    # float32 on the unrounded inputs: within the inputs' rounding
    exact = [t.detach().clone().requires_grad_()
             for t in (feats, projs, weight, bias)]
    ref = fn(*exact, (H, W), 1.0 / P)
    assert _rel_err(out, ref) < 3e-2
    ref.square().sum().backward()
    for got, want in zip(half, exact):
        assert _rel_err(got.grad, want.grad) < 3e-2


@pytest.mark.parametrize('memory_efficient', [False, True])
def test_affinity_modules_under_cpu_autocast(memory_efficient):
    torch.manual_seed(0)
    tasks = ['semseg', 'depth', 'normals']
    modules = [
        CrossTaskAffinity(tasks, 8, (H, W), memory_efficient=memory_efficient,
                          chunk_size=5, scale_by_hw=True),
        TaskAffinityPropagation(tasks, gamma=0.5,
                                memory_efficient=memory_efficient,
                                chunk_size='auto')
    ]
    x = {t: torch.randn(2, 8, H, W) for t in tasks}
    for module in modules:
        ref = module(x)
        ref_grads = torch.autograd.grad(
            sum(o.square().sum() for o in ref.values()),
            list(module.parameters()))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = module(x)
            loss = sum(o.float().square().sum() for o in out.values())
        grads = torch.autograd.grad(loss, list(module.parameters()))
        for t in tasks:
            assert _rel_err(out[t], ref[t]) < 3e-2, t
        for got, want in zip(grads, ref_grads):
            assert torch.isfinite(got).all()
            assert _rel_err(got, want) < 5e-2


@pytest.mark.cuda
@pytest.mark.parametrize('memory_efficient', [False, True])
def test_affinity_under_cuda_autocast_float16(memory_efficient):
    """Sums over P: float16 would overflow without the float32 region
    (positive inputs: the outputs here are about 2e5)."""
    fn = affinity_diffusion_chunked if memory_efficient else \
        affinity_diffusion_dense
    g = torch.Generator().manual_seed(7)
    h, w = 24, 32
    positions = h * w
    feats = normalize_columns(torch.rand(2, 3, 16, positions, generator=g))
    projs = torch.rand(2, 3, 16, positions, generator=g) * 50
    weight = torch.rand(3, positions, 3, 3, 3, generator=g)
    bias = torch.rand(3, positions, generator=g)
    inputs = [t.cuda().requires_grad_() for t in (feats, projs, weight, bias)]
    with torch.autocast('cuda', dtype=torch.float16):
        out = fn(*[t.half() if i < 2 else t for i, t in enumerate(inputs)],
                 (h, w))
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert out.abs().max() > 65504  # beyond float16's range
    out.mean().backward()
    with tf32_disabled():
        ref = fn(*[t.detach() for t in inputs], (h, w))
    assert _rel_err(out, ref) < 1e-2
    assert all(torch.isfinite(t.grad).all() for t in inputs)


@pytest.mark.cuda
def test_dense_and_chunked_agree_on_cuda_without_tf32():
    """float32 on a GPU: exact up to float32 rounding once TF32 is off (with
    cuDNN's default TF32 convolutions they differ by about 1e-4)."""
    tensors = [t.float().cuda().requires_grad_() for t in _inputs(N, seed=8)]
    with tf32_disabled():
        dense = affinity_diffusion_dense(*tensors, (H, W), 1.0 / P)
        chunked = affinity_diffusion_chunked(*tensors, (H, W), 1.0 / P)
        torch.testing.assert_close(chunked, dense, rtol=1e-5, atol=1e-6)
        g_dense = torch.autograd.grad(dense.square().sum(), tensors)
        g_chunk = torch.autograd.grad(chunked.square().sum(), tensors)
    for a, b in zip(g_chunk, g_dense):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_tf32_disabled_restores_the_settings():
    matmul = torch.backends.cuda.matmul
    before = matmul.fp32_precision if hasattr(matmul, 'fp32_precision') \
        else matmul.allow_tf32
    with tf32_disabled():
        inside = matmul.fp32_precision if hasattr(matmul, 'fp32_precision') \
            else matmul.allow_tf32
        assert inside in ('ieee', False)
    after = matmul.fp32_precision if hasattr(matmul, 'fp32_precision') \
        else matmul.allow_tf32
    assert after == before
